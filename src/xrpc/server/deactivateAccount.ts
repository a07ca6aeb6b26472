import { actorFor } from '../../actorStub'
import { procedure } from '../method'

/** Writes stop and sync reads answer RepoDeactivated until activateAccount; relays get #account. */
export default procedure('com.atproto.server.deactivateAccount', { auth: 'full', oauth: 'refuse' }, async ({ env, config }) => {
  await actorFor(env, config).setActive(false)
})
