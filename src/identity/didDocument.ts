import type { Config } from '../env'
import { getServiceEndpoint, resolveDid, type ResolvedDidDocument } from './resolveDid'
import { getSigningKey } from './signingKey'

export interface DidDocument {
  '@context': string[]
  id: string
  alsoKnownAs: string[]
  verificationMethod: { id: string; type: string; controller: string; publicKeyMultibase: string }[]
  service: { id: string; type: string; serviceEndpoint: string }[]
}

/** The did:web document this PDS serves for its account (atproto DID spec). */
export async function buildDidDocument(config: Config, handle: string): Promise<DidDocument> {
  const key = await getSigningKey(config.signingKeyHex)
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1', 'https://w3id.org/security/suites/secp256k1-2019/v1'],
    id: config.did,
    alsoKnownAs: [`at://${handle}`],
    verificationMethod: [
      {
        id: `${config.did}#atproto`,
        type: 'Multikey',
        controller: config.did,
        // did:key without its prefix is exactly the multibase Multikey value.
        publicKeyMultibase: key.did().slice('did:key:'.length),
      },
    ],
    service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: config.publicUrl }],
  }
}

/**
 * The account's DID document as clients should see it: the did:web this PDS
 * serves is its own rendering; any other DID (a did:plc) is the document its
 * directory holds, KV-cached, since ours would claim this PDS and key before
 * the PLC operation says so. Undefined when it cannot be resolved right now
 * (the field is optional), and, with `onlyIfHere` (sessions), while it names
 * another PDS: @atproto/api's agent sends a session's requests to the PDS its
 * didDoc names, so an account being moved in would be routed back to its old
 * host (the reference PDS leaves didDoc out of sessions altogether by default).
 */
export async function accountDidDocument(config: Config, handle: string, cache: KVNamespace, opts: { onlyIfHere?: boolean } = {}): Promise<DidDocument | ResolvedDidDocument | undefined> {
  if (config.did === `did:web:${encodeURIComponent(config.hostname)}`) return buildDidDocument(config, handle)
  let doc
  try {
    doc = await resolveDid(config.did, config, cache)
  } catch {
    return undefined
  }
  if (!doc || (opts.onlyIfHere && getServiceEndpoint(doc, 'atproto_pds') !== config.publicUrl)) return undefined
  return doc
}
