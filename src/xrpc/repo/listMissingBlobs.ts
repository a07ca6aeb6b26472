import { listMissingBlobs } from '../../db/blobs'
import { query } from '../method'

/** Blobs the account's records reference but this PDS has no bytes for (account migration). */
export default query('com.atproto.repo.listMissingBlobs', { auth: 'access' }, async ({ db, auth, params }) => {
  const limit: number = params.limit ?? 500
  const rows = await listMissingBlobs(db, auth!.did, { limit, cursor: params.cursor })
  return {
    json: {
      cursor: rows.length === limit ? rows[rows.length - 1]!.cid : undefined,
      blobs: rows,
    },
  }
})
