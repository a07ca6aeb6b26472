import { invalidRequest } from './errors'

const MAX_BODY_BYTES = 32 * 1024

/** OAuth endpoints take form-encoded bodies (RFC 6749); atproto clients may also send JSON. Values stay strings. */
export async function readParams(req: Request): Promise<Record<string, string>> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (Number(req.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) throw invalidRequest('Request body is too large')
  // Decoded by hand: workerd warns when .text() reads a form body.
  const text = new TextDecoder().decode(await req.arrayBuffer())
  if (text.length > MAX_BODY_BYTES) throw invalidRequest('Request body is too large')
  const out: Record<string, string> = {}
  if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(text)) {
      if (k in out) throw invalidRequest(`Parameter "${k}" is repeated`)
      out[k] = v
    }
    return out
  }
  if (type === 'application/json') {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw invalidRequest('Request body is not valid JSON')
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('Request body must be a JSON object')
    for (const [k, v] of Object.entries(body)) {
      if (v === undefined || v === null) continue
      out[k] = typeof v === 'string' ? v : JSON.stringify(v)
    }
    return out
  }
  throw invalidRequest('Content-Type must be application/x-www-form-urlencoded or application/json')
}
