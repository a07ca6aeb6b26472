import { eq } from 'drizzle-orm'
import type { Config } from '../env'
import type { Db } from './client'
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
