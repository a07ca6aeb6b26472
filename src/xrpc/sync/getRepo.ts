import { blocksSince } from '../../db/blocks'
import { readHead } from '../../repo/readHead'
import { carStream } from '../../repo/car'
import { snapshotBlocks } from '../../repo/snapshot'
import { query } from '../method'
import { assertRepoAvailable } from '../../db/accounts'

/**
 * The whole repo (or the blocks since a rev) as a CAR, streamed from D1:
 * memory does not grow with the repo. It is the repo as of the head when the
 * request came: commits landing during a long export do not disturb it
 * (blocks they drop stay readable a while, see src/repo/snapshot.ts).
 */
export default query('com.atproto.sync.getRepo', {}, async ({ env, config, db, params }) => {
  const did: string = params.did
  await assertRepoAvailable(db, config, did)
  const started = Date.now()
  const head = await readHead(env, config)
  const since: string | undefined = params.since
  return {
    body: carStream(head.cid, since ? blocksSince(env.DB, did, since, started) : snapshotBlocks(env.DB, did, head.cid)),
    contentType: 'application/vnd.ipld.car',
    headers: { 'atproto-repo-rev': head.rev },
  }
})
