import { actorFor } from '../../actorStub'
import { procedure } from '../method'

/** Reopens a deactivated account; relays get #account and a #sync of the head (and a crawl request). */
export default procedure('com.atproto.server.activateAccount', { auth: 'full', input: 'none', oauth: 'refuse' }, async ({ env, config }) => {
  await actorFor(env, config).setActive(true)
})
