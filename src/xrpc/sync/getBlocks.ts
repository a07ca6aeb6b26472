import { D1Blockstore } from '../../repo/blockstore'
import { carBytes } from '../../repo/car'
import { parseCid } from '../../lib/cid'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'
import { assertRepoAvailable } from '../../db/accounts'

export default query('com.atproto.sync.getBlocks', {}, async ({ env, config, db, params }) => {
  const did: string = params.did
  await assertRepoAvailable(db, config, did)
  const cids = (params.cids as string[]).map((c) => {
    const cid = parseCid(c)
    if (!cid) throw new InvalidRequestError(`Invalid CID: ${c}`)
    return cid
  })
  const { blocks, missing } = await new D1Blockstore(env.DB, did).getBlocks(cids)
  if (missing.length > 0) throw new InvalidRequestError(`Could not find cids: ${missing.map(String).join(', ')}`, 'BlockNotFound')
  return { body: carBytes(null, [...blocks].map(([cid, bytes]) => ({ cid, bytes }))), contentType: 'application/vnd.ipld.car' }
})
