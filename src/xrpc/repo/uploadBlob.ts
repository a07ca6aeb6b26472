import { ingestBlob } from '../../blobs/store'
import { declaredMime, sniffMime } from '../../blobs/sniffMime'
import { putBlob } from '../../db/blobs'
import { InvalidRequestError, PayloadTooLargeError } from '../../lib/errors'
import { procedure } from '../method'

/**
 * Streams the body into R2 under its CID and records it as a temporary blob
 * until a commit references it. The bytes never pass through the actor.
 */
export default procedure('com.atproto.repo.uploadBlob', { auth: 'accessOrService', input: 'raw', oauth: (p, { req }) => p.assertBlob({ mime: req.headers.get('content-type')?.split(';')[0]?.trim() || 'application/octet-stream' }) }, async ({ req, env, config, db, auth }) => {
  const tooLarge = () => new PayloadTooLargeError(`Blob is larger than the ${config.blobMaxBytes} byte limit`)
  const lengthHeader = req.headers.get('content-length')
  const declared = lengthHeader === null ? null : Number(lengthHeader)
  if (declared !== null && declared > config.blobMaxBytes) throw tooLarge()
  if (declared === 0 || !req.body) throw new InvalidRequestError('Request body is empty')

  const did = auth!.did
  const stored = await ingestBlob(env.BLOBS, did, req.body, config.blobMaxBytes)
  if (!stored.ok) throw stored.reason === 'tooLarge' ? tooLarge() : new InvalidRequestError('Request body is empty')

  const mimeType = sniffMime(stored.head) ?? declaredMime(req.headers.get('content-type')) ?? 'application/octet-stream'
  const row = await putBlob(db, { did, cid: stored.cid, mimeType, size: stored.size, createdAt: Date.now() })
  return { json: { blob: { $type: 'blob', ref: { $link: stored.cid }, mimeType: row.mimeType, size: row.size } } }
})
