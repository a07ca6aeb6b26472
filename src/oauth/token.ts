import type { Config, Env } from '../env'
import type { Db } from '../db/client'
import { deleteAuthRequest, deleteSession, getAuthRequestByCode, getSession, insertSession, markCodeExchanged, rotateRefresh } from '../db/oauth'
import { ACCESS_TOKEN_TTL_S, signAccessToken } from './accessToken'
import type { OAuthClientInfo } from './client'
import { sameClientAuth, type ClientAuth } from './clientAuth'
import { sha256b64url, type DpopProof } from './dpop'
import { invalidGrant, invalidRequest, OAuthError } from './errors'
import { randomToken, type AuthorizationParameters } from './par'
import { readClientRequest } from './clientRequest'

/** Public clients get a fixed two-week session; confidential ones roll on with use, up to a year. */
const PUBLIC_SESSION_MS = 14 * 86400_000
const CONFIDENTIAL_IDLE_MS = 90 * 86400_000
const CONFIDENTIAL_MAX_MS = 365 * 86400_000

interface Ctx {
  db: Db
  config: Config
  client: OAuthClientInfo
  clientAuth: ClientAuth
  proof: DpopProof
}

/** POST /oauth/token: authorization_code (PKCE S256) and refresh_token (rotating) grants, DPoP-bound. */
export async function tokenEndpoint(req: Request, env: Env, config: Config): Promise<Response> {
  const { db, params, proof, client, clientAuth } = await readClientRequest(req, env, config, '/oauth/token')
  const ctx: Ctx = { db, config, client, clientAuth, proof }
  if (params.grant_type === 'authorization_code') return exchangeCode(ctx, params)
  if (params.grant_type === 'refresh_token') return refresh(ctx, params)
  throw new OAuthError(400, 'unsupported_grant_type', `Unsupported grant_type "${params.grant_type ?? ''}"`)
}

async function exchangeCode(ctx: Ctx, params: Record<string, string>): Promise<Response> {
  const { db, client, proof } = ctx
  if (!params.code) throw invalidRequest('code is required')
  const row = await getAuthRequestByCode(db, params.code)
  if (!row || !row.did) throw invalidGrant('Invalid authorization code')
  if (row.sessionId) {
    // RFC 6749 §4.1.2: a code used twice revokes what it already produced.
    await Promise.all([deleteSession(db, row.sessionId), deleteAuthRequest(db, row.id)])
    throw invalidGrant('Authorization code was already used; the tokens issued for it are revoked')
  }
  const stored = JSON.parse(row.parameters) as AuthorizationParameters
  const fail = async (message: string) => {
    await deleteAuthRequest(db, row.id)
    return invalidGrant(message)
  }
  if (row.expiresAt < Date.now()) throw await fail('Authorization code has expired')
  if (row.clientId !== client.id) throw await fail('Authorization code was issued to another client')
  if (!sameClientAuth(JSON.parse(row.clientAuth), ctx.clientAuth)) throw await fail('Client authentication differs from the pushed request')
  if (params.redirect_uri !== undefined && params.redirect_uri !== stored.redirect_uri) throw await fail('redirect_uri does not match the authorization request')
  const verifier = params.code_verifier
  if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) throw await fail('code_verifier is missing or malformed')
  if ((await sha256b64url(verifier)) !== stored.code_challenge) throw await fail('code_verifier does not match the code_challenge (PKCE)')
  if (row.dpopJkt && row.dpopJkt !== proof.jkt) throw await fail('DPoP key differs from the one used for the pushed request')

  const sessionId = randomToken(18)
  if (!(await markCodeExchanged(db, row.id, sessionId))) throw invalidGrant('Authorization code was already used')
  const now = Date.now()
  const secret = randomToken(32)
  await insertSession(db, {
    id: sessionId,
    did: row.did,
    clientId: client.id,
    clientAuth: row.clientAuth,
    scope: stored.scope,
    dpopJkt: proof.jkt,
    refreshHash: await sha256b64url(secret),
    createdAt: now,
    updatedAt: now,
    expiresAt: now + (client.authMethod === 'none' ? PUBLIC_SESSION_MS : CONFIDENTIAL_IDLE_MS),
  })
  return tokenResponse(ctx, { sessionId, did: row.did, scope: stored.scope, refreshToken: `${sessionId}.${secret}` })
}

async function refresh(ctx: Ctx, params: Record<string, string>): Promise<Response> {
  const { db, client, proof } = ctx
  const [sessionId, secret, extra] = (params.refresh_token ?? '').split('.')
  if (!sessionId || !secret || extra !== undefined) throw invalidGrant('Invalid refresh token')
  const session = await getSession(db, sessionId)
  if (!session) throw invalidGrant('Refresh token is invalid or revoked')
  if (session.clientId !== client.id) throw invalidGrant('Refresh token was issued to another client')
  const now = Date.now()
  if (session.expiresAt < now) {
    await deleteSession(db, sessionId)
    throw invalidGrant('Session has expired')
  }
  const presented = await sha256b64url(secret)
  if (presented !== session.refreshHash) {
    // A refresh token that was already rotated away: someone holds a copy. End the whole session.
    await deleteSession(db, sessionId)
    throw invalidGrant('Refresh token was already used; the session has been ended')
  }
  if (!sameClientAuth(JSON.parse(session.clientAuth), ctx.clientAuth)) throw invalidGrant('Client authentication differs from the one that started the session')
  if (session.dpopJkt !== proof.jkt) throw invalidGrant('DPoP key differs from the one the session is bound to')

  const nextSecret = randomToken(32)
  if (!(await rotateRefresh(db, sessionId, presented, await sha256b64url(nextSecret), now, nextExpiry(session.createdAt, session.expiresAt, now, client)))) {
    await deleteSession(db, sessionId)
    throw invalidGrant('Refresh token was already used; the session has been ended')
  }
  return tokenResponse(ctx, { sessionId, did: session.did, scope: session.scope, refreshToken: `${sessionId}.${nextSecret}` })
}

function nextExpiry(createdAt: number, current: number, now: number, client: OAuthClientInfo): number {
  if (client.authMethod === 'none') return current
  return Math.min(createdAt + CONFIDENTIAL_MAX_MS, now + CONFIDENTIAL_IDLE_MS)
}

async function tokenResponse(ctx: Ctx, s: { sessionId: string; did: string; scope: string; refreshToken: string }): Promise<Response> {
  const accessToken = await signAccessToken(ctx.config, { sub: s.did, sid: s.sessionId, scope: s.scope, clientId: ctx.client.id, jkt: ctx.proof.jkt })
  return Response.json(
    { access_token: accessToken, token_type: 'DPoP', expires_in: ACCESS_TOKEN_TTL_S, refresh_token: s.refreshToken, scope: s.scope, sub: s.did },
    { headers: { 'cache-control': 'no-store', pragma: 'no-cache' } },
  )
}
