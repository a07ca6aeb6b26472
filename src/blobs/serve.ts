/**
 * The HTTP response for a blob's bytes, shared by `com.atproto.sync.getBlob`
 * and `GET /blobs/:cid`. Blobs are user content served from the PDS's own
 * origin, so the headers stop a browser from rendering or running them
 * (CSP sandbox, nosniff), as the reference PDS does; anything but plain
 * media (HTML, SVG, JavaScript, XHTML, PDF…) is also sent as an attachment,
 * so even a browser that ignores the CSP downloads it rather than showing it
 * as a page of our origin. A CID names immutable bytes, so they may be cached
 * forever.
 */
import { blobKey } from './store'

export interface ServableBlob {
  did: string
  cid: string
  mimeType: string
  size: number
  generation: string | null
}

const FIXED_HEADERS = {
  'content-security-policy': "default-src 'none'; sandbox",
  'x-content-type-options': 'nosniff',
  'cache-control': 'public, max-age=31536000, immutable',
  'accept-ranges': 'bytes',
}

/** Types a browser shows as media, never as a document or script (SVG is a document: it can carry script). */
const INLINE_MEDIA = /^(image\/(png|jpeg|gif|webp|avif|heic|heif|bmp)|video\/[a-z0-9.+-]+|audio\/[a-z0-9.+-]+)$/

/** The blob's bytes, a single byte range of them (video players seek), or 304/416. Null when R2 has no bytes. */
export async function blobResponse(bucket: R2Bucket, blob: ServableBlob, req: Request): Promise<Response | null> {
  const headers = new Headers({ ...FIXED_HEADERS, 'content-type': blob.mimeType, etag: `"${blob.cid}"` })
  if (!INLINE_MEDIA.test(blob.mimeType)) headers.set('content-disposition', `attachment; filename="${blob.cid}"`)
  if (req.headers.get('if-none-match')?.includes(`"${blob.cid}"`)) return new Response(null, { status: 304, headers })

  const range = parseRange(req.headers.get('range'), blob.size)
  if (range === 'unsatisfiable') {
    headers.set('content-range', `bytes */${blob.size}`)
    return new Response(null, { status: 416, headers })
  }
  const key = blobKey(blob.did, blob.cid, blob.generation)
  const length = range ? range.length : blob.size
  headers.set('content-length', String(length))
  if (range) headers.set('content-range', `bytes ${range.offset}-${range.offset + range.length - 1}/${blob.size}`)
  const status = range ? 206 : 200

  if (req.method === 'HEAD') return (await bucket.head(key)) ? new Response(null, { status, headers }) : null
  const object = await bucket.get(key, range ? { range } : undefined)
  if (!object) return null
  return new Response(object.body, { status, headers })
}

/**
 * One `bytes=` range (multi-range requests get the whole blob, which RFC 9110
 * allows). Null: no usable Range header, serve everything.
 */
export function parseRange(header: string | null, size: number): { offset: number; length: number } | 'unsatisfiable' | null {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/)
  if (!match) return null
  const [, first, last] = match
  if (first === '' && last === '') return null
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0) return 'unsatisfiable'
    const length = Math.min(suffix, size)
    return { offset: size - length, length }
  }
  const offset = Number(first)
  if (offset >= size) return 'unsatisfiable'
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (end < offset) return null
  return { offset, length: end - offset + 1 }
}
