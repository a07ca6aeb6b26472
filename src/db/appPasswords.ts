import { and, eq, like } from 'drizzle-orm'
import type { Db } from './client'
import { appPassword, refreshToken } from './schema'

export async function listAppPasswords(db: Db, did: string) {
  return db.select().from(appPassword).where(eq(appPassword.did, did)).orderBy(appPassword.createdAt).all()
}

export async function getAppPassword(db: Db, did: string, name: string) {
  return db.select().from(appPassword).where(and(eq(appPassword.did, did), eq(appPassword.name, name))).get()
}

/** The app password whose stored hash is `passwordHash`, if any: one indexed lookup. */
export async function findAppPasswordByHash(db: Db, did: string, passwordHash: string) {
  return db.select().from(appPassword).where(and(eq(appPassword.did, did), eq(appPassword.passwordHash, passwordHash))).get()
}

/** App passwords still stored in the older PBKDF2 form. */
export async function listLegacyAppPasswords(db: Db, did: string) {
  return db.select().from(appPassword).where(and(eq(appPassword.did, did), like(appPassword.passwordHash, 'pbkdf2$%'))).all()
}

export async function setAppPasswordHash(db: Db, did: string, name: string, passwordHash: string) {
  await db.update(appPassword).set({ passwordHash }).where(and(eq(appPassword.did, did), eq(appPassword.name, name)))
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
