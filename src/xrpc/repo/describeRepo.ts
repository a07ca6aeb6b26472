import { repoDescription } from '../../db/records'
import { buildDidDocument } from '../../identity/didDocument'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'
import { namesAccount } from '../repoParam'

export default query('com.atproto.repo.describeRepo', {}, async ({ env, config, params }) => {
  const { handle: stored, collections } = await repoDescription(env.DB, config.did)
  const handle = stored ?? config.handle
  if (!namesAccount(params.repo, config, handle)) throw new InvalidRequestError(`Could not find repo: ${params.repo}`, 'RepoNotFound')
  return {
    json: {
      handle,
      did: config.did,
      didDoc: await buildDidDocument(config, handle),
      collections,
      // Our own did:web document names this handle, and this PDS answers its atproto-did.
      handleIsCorrect: true,
    },
  }
})
