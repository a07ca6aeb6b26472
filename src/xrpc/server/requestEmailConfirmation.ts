import { EmailNotSupportedError } from '../../lib/errors'
import { procedure } from '../method'

export default procedure('com.atproto.server.requestEmailConfirmation', { auth: 'full', input: 'none' }, async () => {
  throw new EmailNotSupportedError()
})
