import type { Config } from '../env'
import type { Db } from '../db/client'
import { getAccount, type AccountState } from '../db/accounts'
import { getAccountEmail } from '../db/accountEmail'
import { storeRefreshToken } from '../db/sessions'
import { accountDidDocument } from '../identity/didDocument'
import { createTokenPair, type AccessScope } from './tokens'

/** Mints a token pair, persists the refresh `jti`, and shapes the session as the lexicon says. */
export async function openSession(db: Db, config: Config, cache: KVNamespace, scope: AccessScope, appPasswordName: string | null, account?: AccountState) {
  const pair = await createTokenPair(config, config.did, scope)
  await storeRefreshToken(db, { id: pair.refreshJti, did: config.did, appPasswordName, expiresAt: pair.refreshExpiresAt })
  return { accessJwt: pair.accessJwt, refreshJwt: pair.refreshJwt, ...(await describeSession(db, config, cache, account)) }
}

/** The session view; pass the account when the caller has already read it. `cache` holds resolved DID documents. */
export async function describeSession(db: Db, config: Config, cache: KVNamespace, known?: AccountState) {
  const [account, email] = await Promise.all([known ?? getAccount(db, config), getAccountEmail(db, config.did)])
  return {
    handle: account.handle,
    did: account.did,
    // No mailer: sign-in codes by email are never on; an address set by the owner is confirmed (README "Email").
    ...(email ? { email: email.email, emailConfirmed: email.confirmedAt !== null } : { emailConfirmed: false }),
    emailAuthFactor: false,
    didDoc: await accountDidDocument(config, account.handle, cache, { onlyIfHere: true }),
    active: account.active,
    ...(account.status ? { status: account.status } : {}),
  }
}
