import type { Config } from '../env'
import { InvalidRequestError } from '../lib/errors'
import { getAtprotoKey, resolveDid } from './resolveDid'
import { getSigningKey } from './signingKey'

/**
 * The key an export of this account's repo from its old host is signed with:
 * the `#atproto` key of its DID document (KV-cached), while that still names
 * another key. Null when it names this PDS's key (a did:web on our own host,
 * or a did:plc already pointed here): the old host's key is then no longer on
 * record, and an export from there cannot be checked against it.
 */
export async function exportSigningKey(config: Config, cache: KVNamespace): Promise<string | null> {
  if (config.did === `did:web:${encodeURIComponent(config.hostname)}`) return null
  let doc
  try {
    doc = await resolveDid(config.did, config, cache)
  } catch (err) {
    throw new InvalidRequestError(`The DID document of ${config.did} could not be resolved to check the export's signature: ${err instanceof Error ? err.message : String(err)}`)
  }
  const key = doc ? getAtprotoKey(doc) : null
  if (!key) throw new InvalidRequestError(`The DID document of ${config.did} names no #atproto signing key to check the export against`)
  return key === (await getSigningKey(config.signingKeyHex)).did() ? null : key
}
