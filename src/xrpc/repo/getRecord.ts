import { recordReader } from '../../db/readReplica'
import { getRecord } from '../../db/records'
import { recordToJson } from '../../repo/recordJson'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'
import { proxyRequest } from '../proxy'
import { ownRepo } from '../repoParam'

/** A record of ours from D1; a record of any other repo from the AppView, as the reference PDS does. */
export default query('com.atproto.repo.getRecord', {}, async ({ env, config, db, params, req, requestId, waitUntil }) => {
  const did = await ownRepo(db, config, params.repo)
  if (!did) return proxyRequest(req, 'com.atproto.repo.getRecord', { env, config, requestId, waitUntil }, 'appview')
  const uri = `at://${did}/${params.collection}/${params.rkey}`
  const record = await getRecord(recordReader(env.DB, config.d1ReadReplicas, req), uri)
  if (!record || (params.cid !== undefined && params.cid !== record.cid)) {
    throw new InvalidRequestError(`Could not locate record: ${uri}`, 'RecordNotFound')
  }
  return { json: { uri: record.uri, cid: record.cid, value: recordToJson(record.content) } }
})
