import { recordReader } from '../../db/readReplica'
import { repoDescription } from '../../db/records'
import { accountDidDocument } from '../../identity/didDocument'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'
import { namesAccount } from '../repoParam'

export default query('com.atproto.repo.describeRepo', {}, async ({ env, config, params, req }) => {
  const { handle: stored, collections } = await repoDescription(recordReader(env.DB, config.d1ReadReplicas, req), config.did)
  const handle = stored ?? config.handle
  if (!namesAccount(params.repo, config, handle)) throw new InvalidRequestError(`Could not find repo: ${params.repo}`, 'RepoNotFound')
  return {
    json: {
      handle,
      did: config.did,
      didDoc: await accountDidDocument(config, handle, env.CACHE),
      collections,
      // Our own did:web document names this handle, and this PDS answers its atproto-did.
      handleIsCorrect: true,
    },
  }
})
