import { clientIp, assertLoginAllowed, recordLoginFailure } from '../../auth/loginRateLimit'
import { secretsEqual, verifyPassword } from '../../auth/password'
import { openSession } from '../../auth/session'
import { Scope } from '../../auth/tokens'
import { getAccount } from '../../db/accounts'
import { listAppPasswords } from '../../db/appPasswords'
import { AuthRequiredError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  identifier: string
  password: string
}

export default procedure<Input>('com.atproto.server.createSession', {}, async ({ db, config, req, input }) => {
  const ip = clientIp(req)
  await assertLoginAllowed(db, ip)

  const account = await getAccount(db, config)
  const identifier = input.identifier.trim().toLowerCase()
  const known = identifier === account.did.toLowerCase() || identifier === account.handle
  // Always compare, so a wrong identifier costs the same as a wrong password.
  const ownerPassword = await secretsEqual(input.password, config.adminPassword)
  let appPassword: { name: string; privileged: boolean } | null = null
  if (known && !ownerPassword) {
    for (const row of await listAppPasswords(db, account.did)) {
      if (await verifyPassword(input.password, row.passwordHash)) {
        appPassword = row
        break
      }
    }
  }
  if (!known || (!ownerPassword && !appPassword)) {
    await recordLoginFailure(db, ip)
    throw new AuthRequiredError('Invalid identifier or password')
  }

  const scope = appPassword ? (appPassword.privileged ? Scope.AppPassPrivileged : Scope.AppPass) : Scope.Access
  return { json: await openSession(db, config, scope, appPassword?.name ?? null, account) }
})
