import { eq } from 'drizzle-orm'
import type { Db } from './client'
import { accountEmail } from './schema'

export interface AccountEmail {
  email: string
  confirmedAt: number | null
}

export async function getAccountEmail(db: Db, did: string): Promise<AccountEmail | null> {
  const row = await db.select().from(accountEmail).where(eq(accountEmail.did, did)).get()
  return row ? { email: row.email, confirmedAt: row.confirmedAt } : null
}

export async function setAccountEmail(db: Db, did: string, email: string, confirmedAt: number | null): Promise<void> {
  await db.insert(accountEmail).values({ did, email, confirmedAt }).onConflictDoUpdate({ target: accountEmail.did, set: { email, confirmedAt } }).run()
}
