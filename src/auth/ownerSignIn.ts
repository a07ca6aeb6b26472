/**
 * The owner signing in on one of our own pages (status page, OAuth sign-in
 * and app list): only the owner's password, never an app password, behind the
 * same per-source login limit as createSession, reserved before the check.
 */
import { getAccount, type AccountState } from '../db/accounts'
import type { Db } from '../db/client'
import type { Config } from '../env'
import { reserveLogin } from './loginRateLimit'
import { secretsEqual } from './password'

/**
 * The account when `identifier` (handle or DID; `null` when the page asks for
 * the password alone) and password are the owner's, else null. Throws
 * `RateLimitExceededError` when the source has used up its attempts.
 */
export async function signInOwner(db: Db, req: Request, config: Config, identifier: string | null, password: string): Promise<AccountState | null> {
  const attempt = await reserveLogin(db, req)
  const account = await getAccount(db, config)
  const name = identifier?.trim().toLowerCase().replace(/^@/, '')
  const known = identifier === null || name === account.handle || name === account.did.toLowerCase()
  if (!(await secretsEqual(password, config.adminPassword)) || !known) return null
  await attempt.release()
  return account
}
