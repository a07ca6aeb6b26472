import { listReferencedBlobCids } from '../../db/blobs'
import { query } from '../method'
import { assertRepoAvailable } from '../../db/accounts'

/** CIDs of the blobs the repo's records reference, optionally only by records written after rev `since`. */
export default query('com.atproto.sync.listBlobs', {}, async ({ db, config, params }) => {
  const did: string = params.did
  await assertRepoAvailable(db, config, did)
  const limit: number = params.limit ?? 500
  const cids = await listReferencedBlobCids(db, did, { since: params.since, limit, cursor: params.cursor })
  return { json: { cursor: cids.length === limit ? cids[cids.length - 1] : undefined, cids } }
})
