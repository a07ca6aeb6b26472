import { EmailNotSupportedError } from '../../lib/errors'
import { procedure } from '../method'

export default procedure('com.atproto.server.updateEmail', { auth: 'full' }, async () => {
  throw new EmailNotSupportedError()
})
