import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { KV_MAX_KEY_BYTES, kvKey } from '../../src/lib/kvKey'

describe('kvKey', () => {
  it('keeps a short key readable and hashes a long one to a key KV accepts, one per input', async () => {
    expect(await kvKey('did-doc', 'did:plc:ewvi7nxzyoun6zhxrhs64oiz')).toBe('did-doc:did:plc:ewvi7nxzyoun6zhxrhs64oiz')
    const long = [`did:web:${'a'.repeat(600)}`, `did:web:${'a'.repeat(599)}b`, `did:web:${'é'.repeat(300)}`]
    const keys = await Promise.all(long.map((id) => kvKey('did-doc', id)))
    expect(new Set(keys).size).toBe(long.length)
    for (const key of keys) {
      expect(new TextEncoder().encode(key).byteLength).toBeLessThanOrEqual(KV_MAX_KEY_BYTES)
      // Real KV takes it: a round trip, not a 500.
      await env.CACHE.put(key, 'x')
      expect(await env.CACHE.get(key)).toBe('x')
    }
  })
})
