import { revokeAppPassword } from '../../db/appPasswords'
import { procedure } from '../method'

interface Input {
  name: string
}

/**
 * Deletes the app password and, in the same batch, every refresh token its
 * sessions hold, so none of them can be renewed. Their access tokens lapse
 * within two hours, as with the reference PDS. Unknown names are a no-op.
 */
export default procedure<Input>('com.atproto.server.revokeAppPassword', { auth: 'full', oauth: 'refuse' }, async ({ db, auth, input }) => {
  await revokeAppPassword(db, auth!.did, input.name)
})
