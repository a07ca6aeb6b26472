import { query } from '../method'

/** A single-account server hands out no invites. */
export default query('com.atproto.server.getAccountInviteCodes', { auth: 'access', oauth: 'refuse' }, async () => {
  return { json: { codes: [] } }
})
