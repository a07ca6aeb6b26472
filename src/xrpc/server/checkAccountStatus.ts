import { getAccount } from '../../db/accounts'
import { getStoredRepoSummary } from '../../db/storedRepoSummary'
import type { Config, Env } from '../../env'
import { getAtprotoKey, getServiceEndpoint, resolveDid } from '../../identity/resolveDid'
import { getSigningKey } from '../../identity/signingKey'
import { actorFor } from '../../actorStub'
import { query } from '../method'

/** Migration and recovery tools poll this; counts come straight from the D1 tables. */
export default query('com.atproto.server.checkAccountStatus', { auth: 'access' }, async ({ db, env, config, auth }) => {
  const did = auth!.did
  const [account, stored, validDid] = await Promise.all([getAccount(db, config), getStoredRepoSummary(db, did), isValidDidDocForService(env, config)])
  let repo = stored
  if (!repo.head) {
    // The lexicon requires a commit CID: have the actor create the (empty) repo the account already owns.
    await actorFor(env, config).getHead()
    repo = await getStoredRepoSummary(db, did)
  }
  if (!repo.head) throw new Error('repo head missing after the actor created it')
  return {
    json: {
      activated: account.active,
      validDid,
      repoCommit: repo.head.cid,
      repoRev: repo.head.rev,
      repoBlocks: repo.repoBlocks,
      indexedRecords: repo.indexedRecords,
      privateStateValues: 0,
      expectedBlobs: repo.expectedBlobs,
      importedBlobs: repo.importedBlobs,
    },
  }
})

/**
 * Whether the account's DID document points at this PDS with our signing key.
 * A did:web on our own host is the document we serve, so it always does.
 */
async function isValidDidDocForService(env: Env, config: Config): Promise<boolean> {
  if (config.did === `did:web:${encodeURIComponent(config.hostname)}`) return true
  try {
    const doc = await resolveDid(config.did, config, env.CACHE)
    if (!doc) return false
    const key = await getSigningKey(config.signingKeyHex)
    return getServiceEndpoint(doc, 'atproto_pds') === config.publicUrl && getAtprotoKey(doc) === key.did()
  } catch {
    return false
  }
}
