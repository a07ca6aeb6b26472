import { prepareCreateOrUpdate } from '../../repo/prepareWrites'
import { writeThroughActor } from '../../repo/writeThroughActor'
import { assertOwnRepo } from '../repoParam'
import { procedure } from '../method'

interface Input {
  repo: string
  collection: string
  rkey?: string
  validate?: boolean
  record: unknown
  swapCommit?: string
}

export default procedure<Input>('com.atproto.repo.createRecord', { auth: 'access', oauth: (p, { input }) => p.assertRepo({ collection: input.collection, action: 'create' }) }, async ({ env, config, db, input }) => {
  await assertOwnRepo(db, config, input.repo)
  const write = prepareCreateOrUpdate('create', input)
  const { commit, results } = await writeThroughActor(env, config, { writes: [write], swapCommit: input.swapCommit })
  const [result] = results
  return { json: { uri: result!.uri, cid: result!.cid, commit, validationStatus: result!.validationStatus } }
})
