import { prepareCreateOrUpdate } from '../../repo/prepareWrites'
import { writeThroughActor } from '../../repo/writeThroughActor'
import { assertOwnRepo } from '../repoParam'
import { procedure } from '../method'

interface Input {
  repo: string
  collection: string
  rkey: string
  validate?: boolean
  record: unknown
  swapRecord?: string | null
  swapCommit?: string
}

/** Creates or replaces the record at collection/rkey. */
export default procedure<Input>('com.atproto.repo.putRecord', {
  auth: 'access',
  // Creates or updates, depending on what is there: an OAuth app needs both (as the reference PDS).
  oauth: (p, { input }) => {
    p.assertRepo({ collection: input.collection, action: 'create' })
    p.assertRepo({ collection: input.collection, action: 'update' })
  },
}, async ({ env, config, db, input }) => {
  await assertOwnRepo(db, config, input.repo)
  const write = { ...prepareCreateOrUpdate('update', input), upsert: true, swapRecord: input.swapRecord }
  const { commit, results } = await writeThroughActor(env, config, { writes: [write], swapCommit: input.swapCommit })
  const [result] = results
  return { json: { uri: result!.uri, cid: result!.cid, commit, validationStatus: result!.validationStatus } }
})
