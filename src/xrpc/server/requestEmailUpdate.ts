import { procedure } from '../method'

/** No mailer, so no code guards the change: the owner password session is the proof (see updateEmail). */
export default procedure('com.atproto.server.requestEmailUpdate', { auth: 'full', input: 'none', oauth: (p) => p.assertAccount({ attr: 'email', action: 'manage' }) }, async () => {
  return { json: { tokenRequired: false } }
})
