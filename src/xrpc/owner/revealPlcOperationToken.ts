import { secretsEqual } from '../../auth/password'
import { pendingPlcToken } from '../../plc/operationToken'
import { AuthRequiredError, InvalidRequestError, NotFoundError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  password?: string
}

/**
 * Where the owner reads the PLC operation token the reference PDS would have
 * mailed: an owner session plus the password itself, so a stolen session
 * cannot move the identity. Not a lexicon method of atproto: this PDS's own.
 */
export default procedure<Input>('dev.rawkode.pds.revealPlcOperationToken', { auth: 'full', oauth: 'refuse' }, async ({ env, config, input }) => {
  if (typeof input.password !== 'string' || !(await secretsEqual(input.password, config.adminPassword))) {
    throw new AuthRequiredError("password must be this PDS's owner password (ADMIN_PASSWORD)", 'InvalidPassword')
  }
  if (!config.plcRotationKeyHex) throw new InvalidRequestError(`${config.did} is not a did:plc`)
  const pending = await pendingPlcToken(env.CACHE, config.did)
  if (!pending) throw new NotFoundError('No PLC operation token is pending: call com.atproto.identity.requestPlcOperationSignature first', 'TokenNotFound')
  return { json: { token: pending.token, expiresAt: new Date(pending.expiresAt).toISOString() } }
})
