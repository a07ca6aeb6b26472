import { and, eq, lt } from 'drizzle-orm'
import type { Db } from './client'
import { refreshToken } from './schema'

export async function storeRefreshToken(db: Db, row: { id: string; did: string; appPasswordName: string | null; expiresAt: number }) {
  await db.insert(refreshToken).values({ ...row, createdAt: Date.now() })
}

/**
 * Atomically removes and returns a live refresh token. Two concurrent
 * refreshes of the same token: exactly one gets the row.
 */
export async function takeRefreshToken(db: Db, id: string, did: string) {
  const rows = await db.delete(refreshToken).where(and(eq(refreshToken.id, id), eq(refreshToken.did, did))).returning()
  const row = rows[0]
  if (!row || row.expiresAt < Date.now()) return null
  return row
}

export async function revokeRefreshToken(db: Db, id: string) {
  await db.delete(refreshToken).where(eq(refreshToken.id, id))
}

export async function pruneExpiredRefreshTokens(db: Db) {
  await db.delete(refreshToken).where(lt(refreshToken.expiresAt, Date.now()))
}
