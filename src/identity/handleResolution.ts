import { isValidDid } from '@atproto/syntax'
import type { Config } from '../env'
import { assertPublicUrl } from '../lib/publicUrl'

const TIMEOUT_MS = 5000
/** DNS-over-HTTPS JSON API; Workers have no resolver of their own. */
export const DOH_URL = 'https://cloudflare-dns.com/dns-query'

export class AppViewLookupError extends Error {
  name = 'AppViewLookupError'
}

/**
 * Asks the AppView, which resolves and caches every handle on the network
 * (as the reference PDS does). Null when it says the handle does not resolve;
 * throws AppViewLookupError when it cannot be asked.
 */
export async function resolveHandleViaAppView(handle: string, config: Config): Promise<string | null> {
  const url = assertPublicUrl(`${config.appView.url}/xrpc/com.atproto.identity.resolveHandle?handle=${encodeURIComponent(handle)}`, config.proxyAllowInsecure)
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (err) {
    throw new AppViewLookupError(`AppView unreachable: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (res.status >= 400 && res.status < 500) {
    await res.body?.cancel()
    return null
  }
  if (!res.ok) {
    await res.body?.cancel()
    throw new AppViewLookupError(`AppView answered ${res.status}`)
  }
  const body = (await res.json().catch(() => null)) as { did?: unknown } | null
  if (typeof body?.did !== 'string' || !isValidDid(body.did)) throw new AppViewLookupError('AppView answered without a valid DID')
  return body.did
}

/**
 * Whether `handle` claims `did` by either method the handle spec allows: DNS
 * TXT `_atproto.<handle>` = `did=<did>`, or HTTPS `/.well-known/atproto-did`.
 */
export async function handleResolvesTo(handle: string, did: string, config: Config): Promise<boolean> {
  const [dns, web] = await Promise.all([viaDns(handle).catch((): string[] => []), viaWellKnown(handle, config).catch(() => null)])
  return dns.includes(did) || web === did
}

async function viaDns(handle: string): Promise<string[]> {
  const url = `${DOH_URL}?name=${encodeURIComponent(`_atproto.${handle}`)}&type=TXT`
  const res = await fetch(url, { headers: { accept: 'application/dns-json' }, signal: AbortSignal.timeout(TIMEOUT_MS) })
  if (!res.ok) return []
  const body = (await res.json()) as { Answer?: { type: number; data: string }[] }
  return (body.Answer ?? [])
    .filter((a) => a.type === 16)
    .map((a) => a.data.replace(/^"|"$/g, '').replace(/"\s*"/g, ''))
    .filter((txt) => txt.startsWith('did='))
    .map((txt) => txt.slice('did='.length))
}

async function viaWellKnown(handle: string, config: Config): Promise<string | null> {
  const url = assertPublicUrl(`https://${handle}/.well-known/atproto-did`, config.proxyAllowInsecure)
  // Never followed: a redirect could point anywhere, including a private address the guard above refuses.
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
  if (!res.ok) {
    await res.body?.cancel()
    return null
  }
  const text = (await res.text()).slice(0, 2048).split('\n')[0]!.trim()
  return text || null
}
