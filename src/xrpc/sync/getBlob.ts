import { parseCid } from '../../lib/cid'
import { blobResponse } from '../../blobs/serve'
import { getReferencedBlob } from '../../db/blobs'
import { log } from '../../lib/log'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'
import { assertRepoAvailable } from '../../db/accounts'

/** A committed blob's bytes, straight from R2. Temporary (unreferenced) blobs are not public. */
export default query('com.atproto.sync.getBlob', {}, async ({ req, env, config, db, params }) => {
  const did: string = params.did
  // The lexicon's `cid` format already refused text that is no CID at all.
  const cid = parseCid(params.cid)?.toString()
  if (!cid) throw new InvalidRequestError(`Invalid CID: ${params.cid}`)
  await assertRepoAvailable(db, config, did)
  const blob = await getReferencedBlob(db, did, cid)
  const res = blob && (await blobResponse(env.BLOBS, blob, req))
  if (!res) {
    if (blob) log('error', 'blob row without bytes in R2', { did, cid })
    throw new InvalidRequestError('Blob not found', 'BlobNotFound')
  }
  return res
})
