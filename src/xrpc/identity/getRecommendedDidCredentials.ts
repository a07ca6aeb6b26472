import { getAccount } from '../../db/accounts'
import { recommendedCredentials } from '../../plc/credentials'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'

/** What the PLC operation moving the identity here must say: our rotation and signing keys, handle, endpoint. */
export default query('com.atproto.identity.getRecommendedDidCredentials', { auth: 'access', oauth: (p) => p.assertIdentity({ attr: '*' }) }, async ({ db, config }) => {
  if (!config.plcRotationKeyHex) throw new InvalidRequestError(`${config.did} is not a did:plc; this PDS holds no PLC rotation key`)
  return { json: await recommendedCredentials(config, (await getAccount(db, config)).handle) }
})
