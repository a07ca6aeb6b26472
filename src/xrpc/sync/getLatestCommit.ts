import { readHead } from '../../repo/readHead'
import { query } from '../method'
import { assertRepoAvailable } from '../../db/accounts'

export default query('com.atproto.sync.getLatestCommit', {}, async ({ env, config, db, params }) => {
  await assertRepoAvailable(db, config, params.did)
  const head = await readHead(env, config)
  return { json: { cid: head.cid, rev: head.rev } }
})
