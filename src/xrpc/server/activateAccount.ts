import { actorFor } from '../../actorStub'
import { checkHostedHere } from '../../identity/hostedHere'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

/**
 * Reopens a deactivated account once its DID document points here with our
 * key (relays would refuse our commits otherwise); relays get #identity,
 * #account, a #sync of the head, and a crawl request.
 */
export default procedure('com.atproto.server.activateAccount', { auth: 'full', input: 'none', oauth: 'refuse' }, async ({ env, config }) => {
  const hosted = await checkHostedHere(config, env.CACHE, { fresh: true })
  if (!hosted.ok) throw new InvalidRequestError(`Cannot activate yet: ${hosted.problem}. Submit the PLC operation moving it here first (com.atproto.identity.submitPlcOperation)`)
  await actorFor(env, config).setActive(true)
})
