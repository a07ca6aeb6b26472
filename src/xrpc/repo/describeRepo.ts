import { getAccount } from '../../db/accounts'
import { listCollections } from '../../db/records'
import { buildDidDocument } from '../../identity/didDocument'
import { query } from '../method'
import { resolveRepo } from '../repoParam'

export default query('com.atproto.repo.describeRepo', {}, async ({ env, config, db, params }) => {
  const did = await resolveRepo(db, config, params.repo)
  const account = await getAccount(db, config)
  return {
    json: {
      handle: account.handle,
      did,
      didDoc: await buildDidDocument(config, account.handle),
      collections: await listCollections(env.DB, did),
      // Our own did:web document names this handle, and this PDS answers its atproto-did.
      handleIsCorrect: true,
    },
  }
})
