import { concatBytesAsync, getRecords } from '@atproto/repo'
import { storedCid } from '../../lib/cid'
import { D1Blockstore } from '../../repo/blockstore'
import { readHead } from '../../repo/readHead'
import { query } from '../method'
import { assertRepoAvailable } from '../../db/accounts'

/** The record with its MST proof path and the signed commit, as a CAR; a proof of absence if missing. */
export default query('com.atproto.sync.getRecord', {}, async ({ env, config, db, params }) => {
  const did: string = params.did
  await assertRepoAvailable(db, config, did)
  const head = await readHead(env, config)
  const storage = new D1Blockstore(env.DB, did)
  const car = await concatBytesAsync(getRecords(storage, storedCid(head.cid), [{ collection: params.collection, rkey: params.rkey }]))
  return { body: car, contentType: 'application/vnd.ipld.car' }
})
