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
  const started = Date.now()
  // The account check and the head read go to D1 side by side: one round trip of latency, not two.
  const [, read] = await Promise.all([assertRepoAvailable(db, config, did), did === config.did ? readHead(env, config) : null])
  const head = read! // assertRepoAvailable refused any other DID
  const since: string | undefined = params.since
  return {
    body: carStream(head.cid, since ? blocksSince(env.DB, did, since, started) : snapshotBlocks(env.DB, did, head.cid)),
    contentType: 'application/vnd.ipld.car',
    headers: { 'atproto-repo-rev': head.rev },
  }
})
