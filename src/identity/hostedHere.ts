import type { Config } from '../env'
import { getAtprotoKey, getServiceEndpoint, resolveDid } from './resolveDid'
import { getSigningKey } from './signingKey'

export type HostingCheck = { ok: true } | { ok: false; problem: string }

/**
 * Whether the account's DID document names this PDS as its `#atproto_pds`
 * and our signing key as its `#atproto` key: until it does, relays would not
 * accept our commits, so the account stays deactivated. A did:web on our own
 * host is the document we serve, so it always does. Documents come from the
 * KV cache unless `fresh` (right after an identity change).
 */
export async function checkHostedHere(config: Config, cache: KVNamespace, opts: { fresh?: boolean } = {}): Promise<HostingCheck> {
  if (config.did === `did:web:${encodeURIComponent(config.hostname)}`) return { ok: true }
  let doc
  try {
    doc = await resolveDid(config.did, config, cache, opts)
  } catch (err) {
    return { ok: false, problem: `the DID document of ${config.did} could not be resolved (${err instanceof Error ? err.message : String(err)})` }
  }
  if (!doc) return { ok: false, problem: `${config.did} has no DID document` }
  const key = (await getSigningKey(config.signingKeyHex)).did()
  const endpoint = getServiceEndpoint(doc, 'atproto_pds')
  const atproto = getAtprotoKey(doc)
  if (endpoint !== config.publicUrl) return { ok: false, problem: `the DID document of ${config.did} names ${endpoint ?? 'no'} PDS, not ${config.publicUrl}` }
  if (atproto !== key) return { ok: false, problem: `the DID document of ${config.did} names the signing key ${atproto ?? '(none)'}, not this PDS's ${key}` }
  return { ok: true }
}
