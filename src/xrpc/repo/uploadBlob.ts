import { storeUpload } from '../../blobs/upload'
import { InvalidRequestError, PayloadTooLargeError, RequestTimeoutError } from '../../lib/errors'
import { procedure } from '../method'

/**
 * Streams the body into R2 and records it as a temporary blob until a commit
 * references it. The bytes never pass through the actor.
 */
export default procedure('com.atproto.repo.uploadBlob', { auth: 'accessOrService', input: 'raw', oauth: (p, { req }) => p.assertBlob({ mime: req.headers.get('content-type')?.split(';')[0]?.trim() || 'application/octet-stream' }) }, async ({ req, env, config, db, auth }) => {
  const tooLarge = () => new PayloadTooLargeError(`Blob is larger than the ${config.blobMaxBytes} byte limit`)
  const lengthHeader = req.headers.get('content-length')
  const declared = lengthHeader === null ? null : Number(lengthHeader)
  if (declared !== null && declared > config.blobMaxBytes) throw tooLarge()
  if (declared === 0 || !req.body) throw new InvalidRequestError('Request body is empty')

  const body = { body: req.body, contentType: req.headers.get('content-type') }
  const stored = await storeUpload(db, env.BLOBS, auth!.did, body, config.blobMaxBytes, { idleMs: config.uploadIdleMs })
  if (!stored.ok) {
    if (stored.reason === 'tooLarge') throw tooLarge()
    if (stored.reason === 'stalled') throw new RequestTimeoutError(`Upload stalled: no bytes received for ${config.uploadIdleMs / 1000} s`)
    throw new InvalidRequestError('Request body is empty')
  }
  return { json: { blob: { $type: 'blob', ref: { $link: stored.cid }, mimeType: stored.mimeType, size: stored.size } } }
})
