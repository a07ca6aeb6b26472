import { resolveRepo } from '../../db/records'
import { readHead } from '../../repo/head'
import { query } from '../method'

export default query('com.atproto.sync.getLatestCommit', {}, async ({ env, config, db, params }) => {
  await resolveRepo(db, config, params.did)
  const head = await readHead(env, config)
  return { json: { cid: head.cid, rev: head.rev } }
})
