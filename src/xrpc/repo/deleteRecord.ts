import { prepareDelete } from '../../repo/prepareWrites'
import { writeThroughActor } from '../../repo/writeThroughActor'
import { assertOwnRepo } from '../repoParam'
import { procedure } from '../method'

interface Input {
  repo: string
  collection: string
  rkey: string
  swapRecord?: string
  swapCommit?: string
}

/** Deleting a record that does not exist succeeds without a commit, as the reference PDS. */
export default procedure<Input>('com.atproto.repo.deleteRecord', { auth: 'access', oauth: (p, { input }) => p.assertRepo({ collection: input.collection, action: 'delete' }) }, async ({ env, config, db, input }) => {
  await assertOwnRepo(db, config, input.repo)
  const write = { ...prepareDelete(input), upsert: true, swapRecord: input.swapRecord }
  const { commit, results } = await writeThroughActor(env, config, { writes: [write], swapCommit: input.swapCommit })
  return { json: results.length > 0 ? { commit } : {} }
})
