import { recordReader } from '../../db/readReplica'
import { listRecords } from '../../db/records'
import { recordToJson } from '../../repo/recordJson'
import { query } from '../method'
import { resolveRepo } from '../repoParam'

export default query('com.atproto.repo.listRecords', {}, async ({ env, config, db, params, req }) => {
  // By handle: the page and the handle check in one query; only an empty page asks whose repo it is.
  const handle = params.repo.startsWith('did:') ? undefined : params.repo.toLowerCase()
  if (handle === undefined) await resolveRepo(db, config, params.repo)
  const limit: number = params.limit ?? 50
  const records = await listRecords(recordReader(env.DB, config.d1ReadReplicas, req), config.did, params.collection, { limit, cursor: params.cursor, reverse: params.reverse ?? false, handle })
  if (handle !== undefined && records.length === 0) await resolveRepo(db, config, params.repo)
  const last = records.at(-1)
  return {
    json: {
      records: records.map((r) => ({ uri: r.uri, cid: r.cid, value: recordToJson(r.content) })),
      ...(records.length === limit && last ? { cursor: last.uri.split('/').at(-1) } : {}),
    },
  }
})
