import { getRecord } from '../../db/records'
import { recordToJson } from '../../repo/recordJson'
import { InvalidRequestError } from '../errors'
import { query } from '../method'
import { resolveRepo } from '../repoParam'

export default query('com.atproto.repo.getRecord', {}, async ({ env, config, db, params }) => {
  const did = await resolveRepo(db, config, params.repo)
  const uri = `at://${did}/${params.collection}/${params.rkey}`
  const record = await getRecord(env.DB, uri)
  if (!record || (params.cid !== undefined && params.cid !== record.cid)) {
    throw new InvalidRequestError(`Could not locate record: ${uri}`, 'RecordNotFound')
  }
  return { json: { uri: record.uri, cid: record.cid, value: recordToJson(record.content) } }
})
