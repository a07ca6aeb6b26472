import { setAccountEmail } from '../../db/accountEmail'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  email: string
  emailAuthFactor?: boolean
  token?: string
}

/** A plain check: one @, no spaces, a dotted domain (what the app itself lets through). */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/**
 * Sets the owner's email. The reference PDS would mail a code to the old
 * address first; this one has no mailer, and the caller has just proven the
 * owner password (app passwords are refused), so the address is taken as
 * confirmed: the app stops asking to verify it.
 */
export default procedure<Input>('com.atproto.server.updateEmail', { auth: 'full', oauth: 'refuse' }, async ({ db, config, input }) => {
  const email = input.email.trim()
  if (!EMAIL.test(email) || email.length > 254) throw new InvalidRequestError('This email address is not supported, please use a different email.')
  if (input.emailAuthFactor) throw new InvalidRequestError('This PDS sends no email, so sign-in codes by email cannot be turned on')
  await setAccountEmail(db, config.did, email, Date.now())
})
