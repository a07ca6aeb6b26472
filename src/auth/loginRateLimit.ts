import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { loginAttempt } from '../db/schema'
import { RateLimitExceededError } from '../lib/errors'

/** Failed logins allowed per window, per client IP and for the whole server. */
export const LOGIN_WINDOW_MS = 5 * 60 * 1000
export const MAX_FAILURES_PER_IP = 10
export const MAX_FAILURES_OVERALL = 100

const keysFor = (ip: string) => [
  { key: `ip:${ip}`, max: MAX_FAILURES_PER_IP },
  { key: 'all', max: MAX_FAILURES_OVERALL },
]

/** Refuses a login attempt while the caller's or the server's window is exhausted. */
export async function assertLoginAllowed(db: Db, ip: string, now = Date.now()): Promise<void> {
  for (const { key, max } of keysFor(ip)) {
    const row = await db.select().from(loginAttempt).where(eq(loginAttempt.key, key)).get()
    if (row && now - row.windowStart < LOGIN_WINDOW_MS && row.failures >= max) {
      throw new RateLimitExceededError(Math.ceil((row.windowStart + LOGIN_WINDOW_MS - now) / 1000))
    }
  }
}

/** Counts a failed login; a window that has passed starts again from one. */
export async function recordLoginFailure(db: Db, ip: string, now = Date.now()): Promise<void> {
  await db.batch(
    keysFor(ip).map(({ key }) =>
      db
        .insert(loginAttempt)
        .values({ key, windowStart: now, failures: 1 })
        .onConflictDoUpdate({
          target: loginAttempt.key,
          set: {
            failures: sql`CASE WHEN ${now} - ${loginAttempt.windowStart} >= ${LOGIN_WINDOW_MS} THEN 1 ELSE ${loginAttempt.failures} + 1 END`,
            windowStart: sql`CASE WHEN ${now} - ${loginAttempt.windowStart} >= ${LOGIN_WINDOW_MS} THEN ${now} ELSE ${loginAttempt.windowStart} END`,
          },
        }),
    ) as [any, ...any[]],
  )
}

export function clientIp(req: Request): string {
  return req.headers.get('cf-connecting-ip') ?? req.headers.get('x-forwarded-for')?.split(',')[0]?.trim() ?? 'unknown'
}
