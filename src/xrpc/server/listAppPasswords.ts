import { listAppPasswords } from '../../db/appPasswords'
import { query } from '../method'

/** Names and dates only, newest first; the passwords themselves are never kept. */
export default query('com.atproto.server.listAppPasswords', { auth: 'full', oauth: 'refuse' }, async ({ db, auth }) => {
  const rows = await listAppPasswords(db, auth!.did)
  const passwords = rows
    .map((row) => ({ name: row.name, createdAt: new Date(row.createdAt).toISOString(), privileged: row.privileged }))
    .reverse()
  return { json: { passwords } }
})
