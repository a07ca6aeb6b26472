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

/** The account row, or the configured defaults before the actor has written one. */
export async function getAccount(db: Db, config: Config): Promise<AccountState> {
  const row = await db.select().from(account).where(eq(account.did, config.did)).get()
  if (!row) return { did: config.did, handle: config.handle, active: true, status: null }
  return { did: row.did, handle: row.handle, active: row.active, status: row.status }
}
