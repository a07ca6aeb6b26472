/**
 * Login attempts per source as a GCRA rate limit ("generic cell rate
 * algorithm"): each attempt moves the source's `tat` (theoretical arrival
 * time) one interval later, and an attempt is allowed while `tat` stays
 * within `burst` intervals of now. One row per source, one statement per
 * attempt, so the check and the count cannot be separated by a racing request.
 */
import { eq, lt, sql } from 'drizzle-orm'
import type { Db } from './client'
import { loginLimit } from './schema'

export interface LimitRule {
  /** Attempts a fresh source may make at once. */
  burst: number
  /** One more attempt per interval after that. */
  intervalMs: number
}

/**
 * Reserves one attempt for `key` before any password is checked: null when
 * reserved, else how long until the next one would be.
 */
export async function reserveAttempt(db: Db, key: string, rule: LimitRule, now = Date.now()): Promise<number | null> {
  const next = sql`max(${loginLimit.tat}, ${now}) + ${rule.intervalMs}`
  const reserved = await db
    .insert(loginLimit)
    .values({ key, tat: now + rule.intervalMs })
    .onConflictDoUpdate({ target: loginLimit.key, set: { tat: next }, setWhere: sql`${next} <= ${now + rule.burst * rule.intervalMs}` })
    .returning({ tat: loginLimit.tat })
  if (reserved.length > 0) return null
  const row = await db.select({ tat: loginLimit.tat }).from(loginLimit).where(eq(loginLimit.key, key)).get()
  return Math.max(1, (row?.tat ?? now) + rule.intervalMs - rule.burst * rule.intervalMs - now)
}

/** Gives a reserved attempt back (a login that succeeded costs its source nothing). */
export async function releaseAttempt(db: Db, key: string, rule: LimitRule): Promise<void> {
  await db
    .update(loginLimit)
    .set({ tat: sql`${loginLimit.tat} - ${rule.intervalMs}` })
    .where(eq(loginLimit.key, key))
}

/** Sources whose budget is whole again need no row. */
export async function pruneLoginLimits(db: Db, now = Date.now()): Promise<void> {
  await db.delete(loginLimit).where(lt(loginLimit.tat, now))
}
