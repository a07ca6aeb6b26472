import { repoBlocks } from '../../db/blocks'
import { getRepoRoot } from '../../db/repoRoot'
import { readHead } from '../../repo/readHead'
import { carStream } from '../../repo/car'
import { query } from '../method'
import { assertRepoAvailable } from './repoAvailability'

/**
 * The whole repo (or the blocks since a rev) as a CAR, streamed page by page
 * from D1: memory does not grow with the repo. If a commit lands while we
 * stream, its deletions could leave the export incomplete, so the stream then
 * fails rather than end cleanly, and the client retries.
 */
export default query('com.atproto.sync.getRepo', {}, async ({ env, config, db, params }) => {
  const did: string = params.did
  await assertRepoAvailable(db, config, did)
  const head = await readHead(env, config)
  const since: string | undefined = params.since
  async function* blocks() {
    yield* repoBlocks(env.DB, did, since)
    const now = await getRepoRoot(env.DB, did)
    if (now?.cid !== head.cid) throw new Error('repo changed during export; retry')
  }
  return {
    body: carStream(head.cid, blocks()),
    contentType: 'application/vnd.ipld.car',
    headers: { 'atproto-repo-rev': head.rev },
  }
})
