import { eq } from 'drizzle-orm'
import type { Config } from '../env'
import type { Db } from './client'
import { InvalidRequestError } from '../lib/errors'
import { account } from './schema'

export interface AccountState {
  did: string
  handle: string
  active: boolean
  status: string | null
}

/** A new account: active, no status. Said once, for the row the actor creates and for reads before it exists. */
export const ACCOUNT_DEFAULTS = { active: true, status: null } as const

/** The account row, or the configured defaults before the actor has written one. */
export async function getAccount(db: Db, config: Config): Promise<AccountState> {
  const row = await db.select().from(account).where(eq(account.did, config.did)).get()
  if (!row) return { did: config.did, handle: config.handle, ...ACCOUNT_DEFAULTS }
  return { did: row.did, handle: row.handle, active: row.active, status: row.status }
}

/*
 * Statements for the actor's batches (prepared statements, so they join the
 * commit's D1 batch).
 */

/** The account row of a brand-new repo; an existing row is left alone. */
export function accountInsert(d1: D1Database, did: string, handle: string): D1PreparedStatement {
  return d1
    .prepare('INSERT INTO account (did, handle, active, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (did) DO NOTHING')
    .bind(did, handle, ACCOUNT_DEFAULTS.active ? 1 : 0, ACCOUNT_DEFAULTS.status, Date.now())
}

/** The stored handle, for events built inside the actor's batches (null before the row exists). */
export async function getHandle(d1: D1Database, did: string): Promise<string | null> {
  return (await d1.prepare('SELECT handle FROM account WHERE did = ?').bind(did).first<{ handle: string }>())?.handle ?? null
}

/** The account row of an identity not hosted here yet (being moved in): deactivated until activateAccount. */
export function deactivatedAccountInsert(d1: D1Database, did: string, handle: string): D1PreparedStatement {
  return d1.prepare("INSERT INTO account (did, handle, active, status, created_at) VALUES (?1, ?2, 0, 'deactivated', ?3) ON CONFLICT (did) DO NOTHING").bind(did, handle, Date.now())
}

/** A new handle, creating the row (with the defaults) if there is none yet. */
export function handleUpsert(d1: D1Database, did: string, handle: string): D1PreparedStatement {
  return d1
    .prepare('INSERT INTO account (did, handle, active, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (did) DO UPDATE SET handle = excluded.handle')
    .bind(did, handle, ACCOUNT_DEFAULTS.active ? 1 : 0, ACCOUNT_DEFAULTS.status, Date.now())
}

/** Deactivation (`status` says why) or reactivation (`status` null). */
export function statusUpdate(d1: D1Database, did: string, active: boolean, status: string | null): D1PreparedStatement {
  return d1.prepare('UPDATE account SET active = ?, status = ? WHERE did = ?').bind(active ? 1 : 0, status, did)
}

/**
 * Public reads of the repo and its blobs (sync methods and `/blobs/:cid`)
 * answer only for the account this PDS hosts, and not while it is taken down
 * or deactivated (error names from the sync lexicons).
 */
export async function assertRepoAvailable(db: Db, config: Config, did: string): Promise<void> {
  if (did !== config.did) throw new InvalidRequestError(`Could not find repo for DID: ${did}`, 'RepoNotFound')
  const account = await getAccount(db, config)
  if (account.active) return
  if (account.status === 'takendown') throw new InvalidRequestError(`Repo has been takendown: ${did}`, 'RepoTakendown')
  if (account.status === 'suspended') throw new InvalidRequestError(`Repo has been suspended: ${did}`, 'RepoSuspended')
  throw new InvalidRequestError(`Repo has been deactivated: ${did}`, 'RepoDeactivated')
}
