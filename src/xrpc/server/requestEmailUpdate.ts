import { procedure } from '../method'

/** No email is stored, so no confirmation code guards changing it. */
export default procedure('com.atproto.server.requestEmailUpdate', { auth: 'full', input: 'none' }, async () => {
  return { json: { tokenRequired: false } }
})
