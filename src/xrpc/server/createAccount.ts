import { normalizeAndEnsureValidHandle } from '@atproto/syntax'
import { verifyInboundServiceJwt } from '../../auth/inboundServiceJwt'
import { secretsEqual } from '../../auth/password'
import { openSession } from '../../auth/session'
import { Scope } from '../../auth/tokens'
import { bearerToken } from '../../auth/verifier'
import { getAccount } from '../../db/accounts'
import { getAtprotoKey, resolveDid } from '../../identity/resolveDid'
import { actorFor } from '../../actorStub'
import { AuthRequiredError, InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  did?: string
  handle: string
  password?: string
}

/**
 * This PDS hosts one identity, so createAccount only serves moving it in
 * (the standard migration flow): `did` must be the configured DID, the
 * caller proves control of it with a service token its current PDS signed
 * (`lxm` createAccount, `aud` us) and knows the owner's password. The
 * account starts deactivated; importRepo, the PLC operation and
 * activateAccount follow.
 */
export default procedure<Input>('com.atproto.server.createAccount', {}, async ({ req, env, config, db, input, nsid }) => {
  if (!input.did) throw new InvalidRequestError(`This PDS hosts one existing identity (${config.did}); createAccount only moves it here, with did set`)
  if (input.did !== config.did) throw new InvalidRequestError(`This PDS hosts ${config.did}, not ${input.did}`, 'InvalidDid')
  const token = bearerToken(req)
  if (!token) throw new AuthRequiredError(`Moving ${input.did} here needs a service token from its current PDS (com.atproto.server.getServiceAuth, aud ${config.did}, lxm ${nsid})`)
  const iss = await verifyInboundServiceJwt(token, {
    aud: config.did,
    lxm: nsid,
    keyOf: async (did) => {
      const doc = await resolveDid(did, config, env.CACHE, { fresh: true }).catch(() => null)
      return doc ? getAtprotoKey(doc) : null
    },
  })
  if (iss !== input.did) throw new AuthRequiredError(`The service token was issued by ${iss}, not ${input.did}`, 'BadJwtSignature')
  if (!(await secretsEqual(input.password ?? '', config.adminPassword))) {
    throw new InvalidRequestError("password must be this PDS's owner password (ADMIN_PASSWORD); the old host's password does not carry over", 'InvalidPassword')
  }
  let handle: string
  try {
    handle = normalizeAndEnsureValidHandle(input.handle)
  } catch {
    throw new InvalidRequestError(`Invalid handle: ${input.handle}`, 'InvalidHandle')
  }
  // Creates the repo if it is new: deactivated and unannounced while the DID document points elsewhere.
  await actorFor(env, config).getHead()
  const account = await getAccount(db, config)
  if (handle !== account.handle) throw new InvalidRequestError(`This PDS hosts ${config.did} as ${account.handle} (PDS_HANDLE), not ${handle}`, 'InvalidHandle')
  if (account.active) throw new InvalidRequestError(`${config.did} already has an active repo here; deactivate it (com.atproto.server.deactivateAccount) before moving it in again`, 'AlreadyExists')
  const session = await openSession(db, config, env.CACHE, Scope.Access, null, account)
  return { json: { accessJwt: session.accessJwt, refreshJwt: session.refreshJwt, handle: session.handle, did: session.did } }
})
