/**
 * `GET /blobs/:cid`: the hosted account's committed blobs at a plain URL, with
 * the same headers and rules as `com.atproto.sync.getBlob`.
 */
import { readConfig, type Env } from '../env'
import { getDb } from '../db/client'
import { assertRepoAvailable } from '../db/accounts'
import { getReferencedBlob } from '../db/blobs'
import { parseCid } from '../lib/cid'
import { InvalidRequestError, NotFoundError } from '../lib/errors'
import { blobResponse } from './serve'

export async function getBlobByPath(req: Request, env: Env, params: Record<string, string>): Promise<Response> {
  const cid = parseCid(params.cid ?? '')?.toString()
  if (!cid) throw new InvalidRequestError(`Invalid CID: ${params.cid}`)
  const config = readConfig(env)
  const db = getDb(env.DB)
  // The same rule as getBlob: nothing is served while the account is deactivated or taken down.
  await assertRepoAvailable(db, config, config.did)
  const blob = await getReferencedBlob(db, config.did, cid)
  const res = blob && (await blobResponse(env.BLOBS, blob, req))
  if (!res) throw new NotFoundError('Blob not found', 'BlobNotFound')
  return res
}
