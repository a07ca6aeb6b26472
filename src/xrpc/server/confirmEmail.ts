import { getAccountEmail } from '../../db/accountEmail'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  email: string
  token: string
}

/** The owner's address is already confirmed (no code is ever mailed): succeeds for that address, as the reference does once confirmed. */
export default procedure<Input>('com.atproto.server.confirmEmail', { auth: 'full', oauth: (p) => p.assertAccount({ attr: 'email', action: 'manage' }) }, async ({ db, config, input }) => {
  const current = await getAccountEmail(db, config.did)
  if (!current || current.email.toLowerCase() !== input.email.trim().toLowerCase()) throw new InvalidRequestError('invalid email', 'InvalidEmail')
})
