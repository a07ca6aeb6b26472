import { isValidTld, normalizeAndEnsureValidHandle } from '@atproto/syntax'
import { handleResolvesTo } from '../../identity/handleResolution'
import { actorFor } from '../../actorStub'
import { resolveDid } from '../../identity/resolveDid'
import { PlcDirectoryError } from '../../plc/directory'
import { NotOurIdentityError, updatePlcHandle } from '../../plc/updateOperation'
import { InvalidRequestError, UpstreamFailureError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  handle: string
}

/**
 * Moves the account to a handle that already claims our DID (DNS TXT or
 * HTTPS well-known). The actor writes the `account` row and the `#identity`
 * event in one batch; the did:web document follows from the row, a did:plc
 * document gets a PLC operation first.
 */
export default procedure<Input>('com.atproto.identity.updateHandle', { auth: 'access', oauth: (p) => p.assertIdentity({ attr: 'handle' }) }, async ({ env, config, auth, input }) => {
  let handle: string
  try {
    handle = normalizeAndEnsureValidHandle(input.handle)
  } catch (err) {
    throw new InvalidRequestError(err instanceof Error ? err.message : 'Invalid handle', 'InvalidHandle')
  }
  if (!isValidTld(handle)) throw new InvalidRequestError('Handle TLD is invalid or disallowed', 'InvalidHandle')
  if (!(await handleResolvesTo(handle, auth!.did, config))) {
    throw new InvalidRequestError(`External handle did not resolve to DID: ${auth!.did}`)
  }
  if (config.did.startsWith('did:plc:')) {
    // The PLC document names the handle too: it changes first, signed with our rotation key.
    try {
      await updatePlcHandle(config, handle)
    } catch (err) {
      if (err instanceof NotOurIdentityError || (err instanceof PlcDirectoryError && err.rejected)) throw new InvalidRequestError(err.message)
      throw new UpstreamFailureError(err instanceof Error ? err.message : 'PLC directory failed')
    }
    await resolveDid(config.did, config, env.CACHE, { fresh: true }).catch(() => null)
  }
  await actorFor(env, config).updateHandle(handle)
})
