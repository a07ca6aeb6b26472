import { getAccount } from '../../db/accounts'
import { listRepoRoots } from '../../db/repoRoot'
import { readHead } from '../../repo/readHead'
import { query } from '../method'

export default query('com.atproto.sync.listRepos', {}, async ({ env, config, db, params }) => {
  const limit: number = params.limit ?? 500
  if (!params.cursor) await readHead(env, config) // make sure our own repo exists before listing
  const roots = await listRepoRoots(env.DB, { limit, cursor: params.cursor })
  const account = await getAccount(db, config)
  return {
    json: {
      repos: roots.map((r) => ({
        did: r.did,
        head: r.cid,
        rev: r.rev,
        active: r.did === account.did ? account.active : true,
        ...(r.did === account.did && account.status ? { status: account.status } : {}),
      })),
      ...(roots.length === limit ? { cursor: roots.at(-1)!.did } : {}),
    },
  }
})
