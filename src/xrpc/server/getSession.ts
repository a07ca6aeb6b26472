import { describeSession } from '../../auth/session'
import { query } from '../method'

export default query('com.atproto.server.getSession', { auth: 'access' }, async ({ db, config }) => {
  return { json: await describeSession(db, config) }
})
