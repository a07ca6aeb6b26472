import { getAccount } from '../../db/accounts'
import { checkHostedHere } from '../../identity/hostedHere'
import { operationProblem } from '../../plc/checkOperation'
import { recommendedCredentials } from '../../plc/credentials'
import { PlcDirectory, PlcDirectoryError } from '../../plc/directory'
import type { PlcOperation } from '../../plc/operation'
import { actorFor } from '../../actorStub'
import { InvalidRequestError, UpstreamFailureError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  operation: unknown
}

/**
 * Submits a PLC operation signed elsewhere (by the old host, in a migration)
 * once it is sure to leave the identity hosted here, then tells relays
 * (#identity) and refreshes the cached document.
 */
export default procedure<Input>('com.atproto.identity.submitPlcOperation', { auth: 'full', oauth: (p) => p.assertIdentity({ attr: '*' }) }, async ({ db, env, config, input }) => {
  if (!config.plcRotationKeyHex) throw new InvalidRequestError(`${config.did} is not a did:plc`)
  const want = await recommendedCredentials(config, (await getAccount(db, config)).handle)
  const problem = operationProblem(input.operation, want)
  if (problem) throw new InvalidRequestError(`Invalid PLC operation: ${problem}`)
  try {
    await new PlcDirectory(config).submit(config.did, input.operation as PlcOperation)
  } catch (err) {
    if (err instanceof PlcDirectoryError && err.rejected) throw new InvalidRequestError(err.message)
    throw new UpstreamFailureError(err instanceof Error ? err.message : 'PLC directory failed')
  }
  await checkHostedHere(config, env.CACHE, { fresh: true })
  await actorFor(env, config).announceIdentity()
})
