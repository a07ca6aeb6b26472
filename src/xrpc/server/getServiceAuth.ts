import { ensureValidDid } from '@atproto/syntax'
import { createServiceJwt, isPrivilegedMethod, isProtectedMethod } from '../../auth/serviceAuth'
import { Scope } from '../../auth/tokens'
import { getSigningKey } from '../../identity/signingKey'
import { InvalidRequestError } from '../../lib/errors'
import { query } from '../method'

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS

/** A service token for the client to present elsewhere (video upload, feed generators); limits as the reference PDS. */
export default query('com.atproto.server.getServiceAuth', { auth: 'access', oauth: (p, { params }) => p.assertRpc({ aud: String(params.aud), lxm: params.lxm ?? '*' }) }, async ({ config, params, auth }) => {
  const aud = String(params.aud)
  const lxm: string | null = params.lxm ?? null
  const exp: number | undefined = params.exp

  const hash = aud.indexOf('#')
  try {
    ensureValidDid(hash === -1 ? aud : aud.slice(0, hash))
    if (hash !== -1 && !/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(aud.slice(hash + 1))) throw new Error('bad service id')
  } catch {
    throw new InvalidRequestError('aud must be a valid atproto DID or did#serviceId reference')
  }

  if (exp !== undefined) {
    const diff = exp * 1000 - Date.now()
    if (diff < 0) throw new InvalidRequestError('expiration is in past', 'BadExpiration')
    if (diff > HOUR_MS) throw new InvalidRequestError('cannot request a token with an expiration more than an hour in the future', 'BadExpiration')
    if (!lxm && diff > MINUTE_MS) throw new InvalidRequestError('cannot request a method-less token with an expiration more than a minute in the future', 'BadExpiration')
  }
  if (lxm && isPrivilegedMethod(lxm) && auth!.scope === Scope.AppPass) {
    throw new InvalidRequestError(`insufficient access to request a service auth token for the following method: ${lxm}`)
  }
  if (lxm && isProtectedMethod(lxm)) {
    throw new InvalidRequestError(`cannot request a service auth token for the following protected method: ${lxm}`)
  }

  const token = await createServiceJwt(await getSigningKey(config.signingKeyHex), { iss: auth!.did, aud, lxm, exp })
  return { json: { token } }
})
