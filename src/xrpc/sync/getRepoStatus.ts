import { getAccount } from '../../db/accounts'
import { readHead } from '../../repo/readHead'
import { query } from '../method'
import { resolveRepo } from '../repoParam'

export default query('com.atproto.sync.getRepoStatus', {}, async ({ env, config, db, params }) => {
  const did = await resolveRepo(db, config, params.did)
  const account = await getAccount(db, config)
  const head = await readHead(env, config)
  return { json: { did, active: account.active, ...(account.status ? { status: account.status } : {}), ...(account.active ? { rev: head.rev } : {}) } }
})
