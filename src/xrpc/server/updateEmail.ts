import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

/** A single-user PDS on Cloudflare keeps no email address and sends no mail; say so rather than pretend. */
export default procedure('com.atproto.server.updateEmail', { auth: 'full' }, async () => {
  throw new InvalidRequestError('This PDS does not store an email address or send email')
})
