import { isValidTld, normalizeAndEnsureValidHandle } from '@atproto/syntax'
import { getServerByName } from 'partyserver'
import { handleResolvesTo } from '../../identity/handleResolution'
import { InvalidRequestError } from '../errors'
import { procedure } from '../method'

interface Input {
  handle: string
}

// TODO(issue 6): drop this once AccountActor.updateHandle lands (actors/ is another session's work);
// until then the stub is typed by the one RPC method this file needs.
interface HandleWriter {
  updateHandle(handle: string): Promise<unknown>
}

/**
 * Moves the account to a handle that already claims our DID (DNS TXT or
 * HTTPS well-known). The actor writes the `account` row and the `#identity`
 * event in one batch; the did:web document follows from the row.
 */
export default procedure<Input>('com.atproto.identity.updateHandle', { auth: 'access' }, async ({ env, config, auth, input }) => {
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
  const actor = (await getServerByName(env.ACCOUNT, config.did)) as unknown as HandleWriter
  await actor.updateHandle(handle)
})
