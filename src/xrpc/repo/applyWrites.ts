import { MAX_WRITES_PER_COMMIT, prepareCreateOrUpdate, prepareDelete, type PreparedWrite } from '../../repo/prepareWrites'
import { writeThroughActor } from '../../repo/writeThroughActor'
import { assertOwnRepo } from '../repoParam'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

const NS = 'com.atproto.repo.applyWrites'

interface Input {
  repo: string
  validate?: boolean
  writes: { $type: string; collection: string; rkey?: string; value?: unknown }[]
  swapCommit?: string
}

export default procedure<Input>(NS, {
  auth: 'access',
  oauth: (p, { input }) => {
    for (const w of (input as Input).writes) p.assertRepo({ collection: w.collection, action: w.$type === `${NS}#delete` ? 'delete' : w.$type === `${NS}#update` ? 'update' : 'create' })
  },
}, async ({ env, config, db, input }) => {
  await assertOwnRepo(db, config, input.repo)
  if (input.writes.length > MAX_WRITES_PER_COMMIT) throw new InvalidRequestError(`Too many writes. Max: ${MAX_WRITES_PER_COMMIT}`)
  const writes: PreparedWrite[] = input.writes.map((w) => {
    if (w.$type === `${NS}#create`) return prepareCreateOrUpdate('create', { collection: w.collection, rkey: w.rkey, record: w.value, validate: input.validate })
    if (w.$type === `${NS}#update`) return prepareCreateOrUpdate('update', { collection: w.collection, rkey: w.rkey, record: w.value, validate: input.validate })
    if (w.$type === `${NS}#delete`) return prepareDelete({ collection: w.collection, rkey: w.rkey })
    throw new InvalidRequestError(`Unknown write type: ${String(w.$type)}`)
  })
  const { commit, results } = await writeThroughActor(env, config, { writes, swapCommit: input.swapCommit })
  return {
    json: {
      commit,
      results: results.map((r) =>
        r.action === 'delete'
          ? { $type: `${NS}#deleteResult` }
          : { $type: `${NS}#${r.action}Result`, uri: r.uri, cid: r.cid, validationStatus: r.validationStatus },
      ),
    },
  }
})
