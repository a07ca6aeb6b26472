import { revokeRefreshToken } from '../../db/sessions'
import { procedure } from '../method'

export default procedure('com.atproto.server.deleteSession', { auth: 'refresh', input: 'none' }, async ({ db, auth }) => {
  await revokeRefreshToken(db, auth!.jti ?? '')
})
