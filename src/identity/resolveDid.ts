import { formatDidKey, P256_JWT_ALG, SECP256K1_JWT_ALG } from '@atproto/crypto'
import { base58btc } from 'multiformats/bases/base58'
import type { Config } from '../env'
import { kvKey } from '../lib/kvKey'
import { assertPublicUrl } from '../lib/publicUrl'

/** The parts of a DID document atproto uses (atproto DID spec). */
export interface ResolvedDidDocument {
  id: string
  alsoKnownAs?: string[]
  verificationMethod?: { id: string; type: string; controller?: string; publicKeyMultibase?: string }[]
  service?: { id: string; type: string; serviceEndpoint: unknown }[]
}

/** How long a resolved document is trusted; KV's minimum TTL is 60 s. */
export const DID_CACHE_TTL_SECONDS = 60 * 60
const RESOLVE_TIMEOUT_MS = 5000
const MAX_DOC_BYTES = 64 * 1024
/** The longest DNS name (RFC 1035): a did:web host beyond it names nothing. */
const MAX_HOST_LENGTH = 253

export class DidResolutionError extends Error {
  name = 'DidResolutionError'
}

/**
 * Resolves a did:web (over HTTPS, hostname-level only as atproto allows) or a
 * did:plc (through the configured PLC directory), caching documents in KV.
 * Returns null when the DID has no document; throws UnsafeUrlError when the
 * DID names a host the proxy may not reach.
 */
export async function resolveDid(did: string, config: Config, cache: KVNamespace, opts: { fresh?: boolean } = {}): Promise<ResolvedDidDocument | null> {
  const url = didDocumentUrl(did, config)
  const key = await kvKey('did-doc', did)
  // `fresh`: the caller must see the current document (an identity change just happened).
  const cached = opts.fresh ? null : await cache.get<ResolvedDidDocument>(key, 'json')
  if (cached) return cached
  const doc = await fetchDocument(url, did)
  if (doc) await cache.put(key, JSON.stringify(doc), { expirationTtl: DID_CACHE_TTL_SECONDS })
  else if (opts.fresh) await cache.delete(key)
  return doc
}

function didDocumentUrl(did: string, config: Config): URL {
  if (/^did:plc:[a-z2-7]{24}$/.test(did)) return new URL(`${config.plcDirectoryUrl}/${did}`)
  const web = /^did:web:([a-zA-Z0-9.-]+(?:%3[aA]\d+)?)$/.exec(did)
  if (web) {
    const host = decodeURIComponent(web[1]!)
    if (host.replace(/:\d+$/, '').length > MAX_HOST_LENGTH) throw new DidResolutionError(`did:web host is longer than ${MAX_HOST_LENGTH} characters`)
    // A did:web on a local host is only meaningful in development, where it is served over plain HTTP.
    const local = /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(host)
    const url = new URL(`${local && config.proxyAllowInsecure ? 'http' : 'https'}://${host}/.well-known/did.json`)
    return assertPublicUrl(url, config.proxyAllowInsecure)
  }
  throw new DidResolutionError(`unsupported DID: ${did.slice(0, 100)}`)
}

async function fetchDocument(url: URL, did: string): Promise<ResolvedDidDocument | null> {
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/did+ld+json, application/json' }, redirect: 'manual', signal: AbortSignal.timeout(RESOLVE_TIMEOUT_MS) })
  } catch (err) {
    throw new DidResolutionError(`could not fetch the DID document of ${did}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel()
    return null
  }
  if (!res.ok) {
    await res.body?.cancel()
    throw new DidResolutionError(`DID document of ${did} answered ${res.status}`)
  }
  const text = await res.text()
  if (text.length > MAX_DOC_BYTES) throw new DidResolutionError(`DID document of ${did} is too large`)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new DidResolutionError(`DID document of ${did} is not JSON`)
  }
  if (!isDidDocument(doc) || doc.id !== did) throw new DidResolutionError(`DID document of ${did} is malformed or names another DID`)
  return doc
}

function isDidDocument(doc: unknown): doc is ResolvedDidDocument {
  if (typeof doc !== 'object' || doc === null) return false
  const d = doc as Record<string, unknown>
  return typeof d.id === 'string' && (d.service === undefined || Array.isArray(d.service))
}

/** The endpoint of the service with `id` (`#atproto_pds` or `<did>#atproto_pds`), if it is a URL string. */
export function getServiceEndpoint(doc: ResolvedDidDocument, serviceId: string): string | null {
  const want = serviceId.startsWith('#') ? serviceId : `#${serviceId}`
  const entry = doc.service?.find((s) => s && typeof s.id === 'string' && (s.id === want || s.id === `${doc.id}${want}`))
  if (!entry || typeof entry.serviceEndpoint !== 'string') return null
  try {
    return new URL(entry.serviceEndpoint).toString().replace(/\/$/, '')
  } catch {
    return null
  }
}

/**
 * The `#atproto` signing key of a document as a did:key, if present. PLC
 * directories may still render it in the older form (a `…VerificationKey2019`
 * type and the bare key bytes in base58btc) rather than as a Multikey.
 */
export function getAtprotoKey(doc: ResolvedDidDocument): string | null {
  const vm = doc.verificationMethod?.find((v) => v.id === '#atproto' || v.id === `${doc.id}#atproto`)
  if (!vm?.publicKeyMultibase) return null
  const legacyAlg = { EcdsaSecp256k1VerificationKey2019: SECP256K1_JWT_ALG, EcdsaSecp256r1VerificationKey2019: P256_JWT_ALG }[vm.type]
  if (!legacyAlg) return `did:key:${vm.publicKeyMultibase}`
  try {
    return formatDidKey(legacyAlg, base58btc.decode(vm.publicKeyMultibase))
  } catch {
    return null
  }
}
