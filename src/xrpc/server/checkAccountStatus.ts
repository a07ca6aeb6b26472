import { getAccount } from '../../db/accounts'
import { getStoredRepoSummary } from '../../db/storedRepoSummary'
import { checkHostedHere } from '../../identity/hostedHere'
import { actorFor } from '../../actorStub'
import { query } from '../method'

/** Migration and recovery tools poll this; counts come straight from the D1 tables. */
export default query('com.atproto.server.checkAccountStatus', { auth: 'access' }, async ({ db, env, config, auth }) => {
  const did = auth!.did
  const [account, stored, validDid] = await Promise.all([getAccount(db, config), getStoredRepoSummary(db, did), checkHostedHere(config, env.CACHE).then((c) => c.ok)])
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
