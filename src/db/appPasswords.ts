import { and, eq } from 'drizzle-orm'
import type { Db } from './client'
import { appPassword, refreshToken } from './schema'

export async function listAppPasswords(db: Db, did: string) {
  return db.select().from(appPassword).where(eq(appPassword.did, did)).orderBy(appPassword.createdAt).all()
}

export async function getAppPassword(db: Db, did: string, name: string) {
  return db.select().from(appPassword).where(and(eq(appPassword.did, did), eq(appPassword.name, name))).get()
}

export async function insertAppPassword(db: Db, row: { did: string; name: string; passwordHash: string; privileged: boolean }) {
  await db.insert(appPassword).values({ ...row, createdAt: Date.now() })
}

/** Deletes the app password and its sessions' refresh tokens in one batch. */
export async function revokeAppPassword(db: Db, did: string, name: string) {
  await db.batch([
    db.delete(appPassword).where(and(eq(appPassword.did, did), eq(appPassword.name, name))),
    db.delete(refreshToken).where(and(eq(refreshToken.did, did), eq(refreshToken.appPasswordName, name))),
  ])
}
