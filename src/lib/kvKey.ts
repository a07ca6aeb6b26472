/** Workers KV refuses keys longer than this many bytes (a request that tries one fails). */
export const KV_MAX_KEY_BYTES = 512

/**
 * `<prefix>:<id>` as a KV key that always fits: an id that would make it too
 * long is replaced by its SHA-256, so any input names one entry and never
 * turns a cache read into an error.
 */
export async function kvKey(prefix: string, id: string): Promise<string> {
  const key = `${prefix}:${id}`
  if (new TextEncoder().encode(key).byteLength <= KV_MAX_KEY_BYTES) return key
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)))
  return `${prefix}:sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`
}
