import { getAccount } from '../../db/accounts'
import { InvalidRequestError } from '../errors'
import { query } from '../method'

export default query('com.atproto.identity.resolveHandle', {}, async ({ db, config, params }) => {
  const handle = String(params.handle).toLowerCase()
  const account = await getAccount(db, config)
  if (handle === account.handle) return { json: { did: account.did } }
  throw new InvalidRequestError('Unable to resolve handle', 'HandleNotFound')
})
