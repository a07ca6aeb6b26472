import { secretsEqual } from '../../auth/password'
import { consumePlcToken } from '../../plc/operationToken'
import { PlcDirectoryError } from '../../plc/directory'
import { NotOurIdentityError, signedUpdate } from '../../plc/updateOperation'
import { InvalidRequestError, UpstreamFailureError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  token?: string
  rotationKeys?: string[]
  alsoKnownAs?: string[]
  verificationMethods?: Record<string, string>
  services?: Record<string, { type: string; endpoint: string }>
}

/**
 * Signs, with our rotation key, the operation that moves the identity to
 * another host (its getRecommendedDidCredentials); the new host submits it.
 * Needs the token from requestPlcOperationSignature.
 */
export default procedure<Input>('com.atproto.identity.signPlcOperation', { auth: 'full', oauth: (p) => p.assertIdentity({ attr: '*' }) }, async ({ env, config, input }) => {
  if (!config.plcRotationKeyHex) throw new InvalidRequestError(`${config.did} is not a did:plc`)
  if (!input.token) throw new InvalidRequestError('email confirmation token required to sign PLC operations (requestPlcOperationSignature, then revealPlcOperationToken with the owner password)')
  if (!(await consumePlcToken(env.CACHE, config.did, input.token, secretsEqual))) throw new InvalidRequestError('Token is invalid or expired', 'InvalidToken')
  try {
    const operation = await signedUpdate(config, (op) => ({
      ...op,
      ...(input.rotationKeys ? { rotationKeys: input.rotationKeys } : {}),
      ...(input.alsoKnownAs ? { alsoKnownAs: input.alsoKnownAs } : {}),
      ...(input.verificationMethods ? { verificationMethods: input.verificationMethods } : {}),
      ...(input.services ? { services: input.services } : {}),
    }))
    return { json: { operation } }
  } catch (err) {
    if (err instanceof NotOurIdentityError || (err instanceof PlcDirectoryError && err.rejected)) throw new InvalidRequestError(err.message)
    throw new UpstreamFailureError(err instanceof Error ? err.message : 'PLC directory failed')
  }
})
