/**
 * Which credential a login presents: the owner's password or one of the
 * account's app passwords. A wrong password costs at most what a right one
 * does (two SHA-256 and one lookup), whatever the number of app passwords.
 */
import type { Config } from '../env'
import type { AccountState } from '../db/accounts'
import { findAppPasswordByHash, listLegacyAppPasswords, setAppPasswordHash } from '../db/appPasswords'
import type { Db } from '../db/client'
import { APP_PASSWORD_SHAPE, appPasswordHash, secretsEqual, verifyLegacyPassword } from './password'
import { Scope, type AccessScope } from './tokens'

export interface Credential {
  scope: AccessScope
  /** The app password's name; null for the owner's password. */
  appPasswordName: string | null
}

export async function checkCredentials(db: Db, config: Config, account: AccountState, identifier: string, password: string): Promise<Credential | null> {
  const id = identifier.trim().toLowerCase()
  const known = id === account.did.toLowerCase() || id === account.handle
  // Always compared, so a wrong identifier costs the same as a wrong password.
  const owner = await secretsEqual(password, config.adminPassword)
  if (!known) return null
  if (owner) return { scope: Scope.Access, appPasswordName: null }
  if (!APP_PASSWORD_SHAPE.test(password)) return null
  const row = (await findAppPasswordByHash(db, account.did, await appPasswordHash(account.did, password))) ?? (await matchLegacy(db, account.did, password))
  if (!row) return null
  return { scope: row.privileged ? Scope.AppPassPrivileged : Scope.AppPass, appPasswordName: row.name }
}

/**
 * App passwords created before hashes became deterministic are checked one
 * by one, and the one that matches is rehashed, so each costs slow checks
 * only until it is next used.
 */
async function matchLegacy(db: Db, did: string, password: string) {
  for (const row of await listLegacyAppPasswords(db, did)) {
    if (await verifyLegacyPassword(password, row.passwordHash)) {
      await setAppPasswordHash(db, did, row.name, await appPasswordHash(did, password))
      return row
    }
  }
  return null
}
