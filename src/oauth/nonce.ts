import type { Config } from '../env'
import { oauthKeys } from './keys'

/**
 * Stateless DPoP nonces (RFC 9449 §8): an HMAC of the time period. Any
 * instance can check one without shared state; a proof carrying the nonce of
 * the previous, current or next period is fresh, anything else is stale.
 */
export const NONCE_PERIOD_MS = 3 * 60_000

const memos = new WeakMap<Config, Map<number, string>>()

async function nonceFor(config: Config, period: number): Promise<string> {
  let memo = memos.get(config)
  if (!memo) memos.set(config, (memo = new Map()))
  const hit = memo.get(period)
  if (hit) return hit
  const { nonceKey } = await oauthKeys(config)
  const msg = new DataView(new ArrayBuffer(8))
  msg.setBigUint64(0, BigInt(period))
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', nonceKey, msg.buffer))
  const nonce = btoa(String.fromCharCode(...mac.slice(0, 18))).replace(/\+/g, '-').replace(/\//g, '_')
  if (memo.size > 8) memo.clear()
  memo.set(period, nonce)
  return nonce
}

/** The nonce to hand out now (the `DPoP-Nonce` header on every OAuth and XRPC response). */
export function currentNonce(config: Config, now = Date.now()): Promise<string> {
  return nonceFor(config, Math.floor(now / NONCE_PERIOD_MS))
}

export async function isFreshNonce(config: Config, nonce: string, now = Date.now()): Promise<boolean> {
  const period = Math.floor(now / NONCE_PERIOD_MS)
  for (const p of [period - 1, period, period + 1]) if ((await nonceFor(config, p)) === nonce) return true
  return false
}
