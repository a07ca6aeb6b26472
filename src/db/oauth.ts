import { and, eq, isNull, lt } from 'drizzle-orm'
import type { Db } from './client'
import { oauthConsent, oauthDpopJti, oauthRequest, oauthSession } from './schema'

export type OAuthRequestRow = typeof oauthRequest.$inferSelect
export type OAuthSessionRow = typeof oauthSession.$inferSelect
export type OAuthConsentRow = typeof oauthConsent.$inferSelect

export async function insertAuthRequest(db: Db, row: typeof oauthRequest.$inferInsert) {
  await db.insert(oauthRequest).values(row)
}

export async function getAuthRequest(db: Db, id: string): Promise<OAuthRequestRow | undefined> {
  return db.select().from(oauthRequest).where(eq(oauthRequest.id, id)).get()
}

/**
 * Approves a pushed request exactly once: only a request with no code yet
 * gets one. A second submission of the same form finds nothing to update.
 */
export async function approveAuthRequest(db: Db, id: string, did: string, code: string, expiresAt: number): Promise<boolean> {
  const rows = await db
    .update(oauthRequest)
    .set({ did, code, expiresAt })
    .where(and(eq(oauthRequest.id, id), isNull(oauthRequest.code)))
    .returning({ id: oauthRequest.id })
  return rows.length === 1
}

export async function deleteAuthRequest(db: Db, id: string) {
  await db.delete(oauthRequest).where(eq(oauthRequest.id, id))
}

export async function getAuthRequestByCode(db: Db, code: string): Promise<OAuthRequestRow | undefined> {
  return db.select().from(oauthRequest).where(eq(oauthRequest.code, code)).get()
}

/** Marks a code as exchanged, atomically: of two concurrent exchanges, one wins. */
export async function markCodeExchanged(db: Db, id: string, sessionId: string): Promise<boolean> {
  const rows = await db
    .update(oauthRequest)
    .set({ sessionId })
    .where(and(eq(oauthRequest.id, id), isNull(oauthRequest.sessionId)))
    .returning({ id: oauthRequest.id })
  return rows.length === 1
}

export async function insertSession(db: Db, row: OAuthSessionRow) {
  await db.insert(oauthSession).values(row)
}

export function selectSession(db: Db, id: string) {
  return db.select().from(oauthSession).where(eq(oauthSession.id, id))
}

export async function getSession(db: Db, id: string): Promise<OAuthSessionRow | undefined> {
  return selectSession(db, id).get()
}

/** Swaps the refresh token only if `previousHash` is still current (rotation, race-free). */
export async function rotateRefresh(db: Db, id: string, previousHash: string, nextHash: string, now: number, expiresAt: number): Promise<boolean> {
  const rows = await db
    .update(oauthSession)
    .set({ refreshHash: nextHash, updatedAt: now, expiresAt })
    .where(and(eq(oauthSession.id, id), eq(oauthSession.refreshHash, previousHash)))
    .returning({ id: oauthSession.id })
  return rows.length === 1
}

export async function deleteSession(db: Db, id: string) {
  await db.delete(oauthSession).where(eq(oauthSession.id, id))
}

export async function listSessionsFor(db: Db, did: string): Promise<OAuthSessionRow[]> {
  return db.select().from(oauthSession).where(eq(oauthSession.did, did)).all()
}

export async function getConsent(db: Db, did: string, clientId: string): Promise<OAuthConsentRow | undefined> {
  return db.select().from(oauthConsent).where(and(eq(oauthConsent.did, did), eq(oauthConsent.clientId, clientId))).get()
}

export async function putConsent(db: Db, row: { did: string; clientId: string; clientName: string | null; scope: string }, now = Date.now()) {
  await db
    .insert(oauthConsent)
    .values({ ...row, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: [oauthConsent.did, oauthConsent.clientId], set: { scope: row.scope, clientName: row.clientName, updatedAt: now } })
}

export async function listConsents(db: Db, did: string): Promise<OAuthConsentRow[]> {
  return db.select().from(oauthConsent).where(eq(oauthConsent.did, did)).all()
}

/** Revoking an app: its consent and every session (so every token) it holds, in one batch. */
export async function revokeClient(db: Db, did: string, clientId: string) {
  await db.batch([
    db.delete(oauthConsent).where(and(eq(oauthConsent.did, did), eq(oauthConsent.clientId, clientId))),
    db.delete(oauthSession).where(and(eq(oauthSession.did, did), eq(oauthSession.clientId, clientId))),
  ])
}

/** Records a DPoP `jti`; the statement returns no row when it was already used (a replay). */
export function claimJti(db: Db, jti: string, expiresAt: number) {
  return db.insert(oauthDpopJti).values({ jti, expiresAt }).onConflictDoNothing().returning({ jti: oauthDpopJti.jti })
}

/** Cron: drops expired requests, sessions and DPoP `jti`s. */
export async function pruneExpiredOAuth(db: Db, now = Date.now()) {
  await db.batch([
    db.delete(oauthRequest).where(lt(oauthRequest.expiresAt, now)),
    db.delete(oauthSession).where(lt(oauthSession.expiresAt, now)),
    db.delete(oauthDpopJti).where(lt(oauthDpopJti.expiresAt, now)),
  ])
}
