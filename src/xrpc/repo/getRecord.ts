import { recordReader } from '../../db/readReplica'
import { getRecord, getRecordByHandle } from '../../db/records'
import { recordToJson } from '../../repo/recordJson'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'
import { proxyRequest } from '../proxy'
import { ownRepo } from '../repoParam'

/** A record of ours from D1; a record of any other repo from the AppView, as the reference PDS does. */
export default query('com.atproto.repo.getRecord', {}, async ({ env, config, db, params, req, requestId, waitUntil }) => {
  const reader = recordReader(env.DB, config.d1ReadReplicas, req)
  const uri = `at://${config.did}/${params.collection}/${params.rkey}`
  // By handle: the record and the handle check in one query; only a miss asks whose repo it is.
  const byHandle = params.repo !== config.did && !params.repo.startsWith('did:')
  let record = byHandle ? await getRecordByHandle(reader, config.did, params.repo.toLowerCase(), uri) : null
  if (!record) {
    const did = await ownRepo(db, config, params.repo)
    if (!did) return proxyRequest(req, 'com.atproto.repo.getRecord', { env, config, requestId, waitUntil }, 'appview')
    if (!byHandle) record = await getRecord(reader, uri)
  }
  if (!record || (params.cid !== undefined && params.cid !== record.cid)) {
    throw new InvalidRequestError(`Could not locate record: ${uri}`, 'RecordNotFound')
  }
  return { json: { uri: record.uri, cid: record.cid, value: recordToJson(record.content) } }
})
