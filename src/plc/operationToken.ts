/**
 * The confirmation token that guards signPlcOperation. The reference PDS
 * mails it; this PDS has no mail server, so the owner reads it back with the
 * password itself (dev.rawkode.pds.revealPlcOperationToken; see README
 * "Moving out again"): a stolen session alone cannot move the identity away.
 * Kept in KV for 15 minutes, used once, never logged.
 */
export const PLC_TOKEN_TTL_SECONDS = 15 * 60

const key = (did: string) => `plc-op-token:${did}`

/** A fresh token, replacing any earlier one: `XXXXX-XXXXX` like the reference's mailed ones. */
export async function issuePlcToken(cache: KVNamespace, did: string): Promise<void> {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  const chars = Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => alphabet[b % alphabet.length]).join('')
  const token = `${chars.slice(0, 5)}-${chars.slice(5)}`
  await cache.put(key(did), JSON.stringify({ token, expiresAt: Date.now() + PLC_TOKEN_TTL_SECONDS * 1000 }), { expirationTtl: PLC_TOKEN_TTL_SECONDS })
}

export async function pendingPlcToken(cache: KVNamespace, did: string): Promise<{ token: string; expiresAt: number } | null> {
  const stored = await cache.get<{ token: string; expiresAt: number }>(key(did), 'json')
  return stored && stored.expiresAt > Date.now() ? stored : null
}

/** Whether `token` is the pending one; a match uses it up. */
export async function consumePlcToken(cache: KVNamespace, did: string, token: string, equal: (a: string, b: string) => Promise<boolean>): Promise<boolean> {
  const pending = await pendingPlcToken(cache, did)
  if (!pending || !(await equal(token.trim().toUpperCase(), pending.token))) return false
  await cache.delete(key(did))
  return true
}
