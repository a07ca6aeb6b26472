import { recordReader } from '../../db/readReplica'
import { listRecords } from '../../db/records'
import { recordToJson } from '../../repo/recordJson'
import { query } from '../method'
import { resolveRepo } from '../repoParam'

export default query('com.atproto.repo.listRecords', {}, async ({ env, config, db, params, req }) => {
  const did = await resolveRepo(db, config, params.repo)
  const limit: number = params.limit ?? 50
  const records = await listRecords(recordReader(env.DB, config.d1ReadReplicas, req), did, params.collection, { limit, cursor: params.cursor, reverse: params.reverse ?? false })
  const last = records.at(-1)
  return {
    json: {
      records: records.map((r) => ({ uri: r.uri, cid: r.cid, value: recordToJson(r.content) })),
      ...(records.length === limit && last ? { cursor: last.uri.split('/').at(-1) } : {}),
    },
  }
})
