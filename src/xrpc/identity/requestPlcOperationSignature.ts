import { issuePlcToken } from '../../plc/operationToken'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

/** Starts moving the identity away: a token for signPlcOperation, which the owner reads with the password (src/plc/operationToken.ts). */
export default procedure('com.atproto.identity.requestPlcOperationSignature', { auth: 'full', input: 'none', oauth: (p) => p.assertIdentity({ attr: '*' }) }, async ({ env, config }) => {
  if (!config.plcRotationKeyHex) throw new InvalidRequestError(`${config.did} is not a did:plc`)
  await issuePlcToken(env.CACHE, config.did)
})
