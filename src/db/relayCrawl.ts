import { eq, inArray, not } from 'drizzle-orm'
import type { Db } from './client'
import { relayCrawl } from './schema'

export type RelayCrawl = typeof relayCrawl.$inferSelect

export async function listRelayCrawls(db: Db): Promise<RelayCrawl[]> {
  return db.select().from(relayCrawl).orderBy(relayCrawl.relay).all()
}

/** Records one relay's outcome; `okAt` keeps the last success across failures. */
export async function saveRelayCrawl(db: Db, row: Omit<RelayCrawl, 'okAt'> & { okAt?: number | null }): Promise<void> {
  const okAt = row.status === 'ok' ? row.attemptedAt : null
  await db
    .insert(relayCrawl)
    .values({ ...row, okAt })
    .onConflictDoUpdate({
      target: relayCrawl.relay,
      set: { hostname: row.hostname, status: row.status, detail: row.detail, attempts: row.attempts, attemptedAt: row.attemptedAt, ...(okAt ? { okAt } : {}) },
    })
    .run()
}

/** Forgets relays no longer in RELAY_HOSTS. */
export async function forgetOtherRelays(db: Db, keep: string[]): Promise<void> {
  if (keep.length === 0) await db.delete(relayCrawl).run()
  else await db.delete(relayCrawl).where(not(inArray(relayCrawl.relay, keep))).run()
}

export async function getRelayCrawl(db: Db, relay: string): Promise<RelayCrawl | undefined> {
  return db.select().from(relayCrawl).where(eq(relayCrawl.relay, relay)).get()
}
