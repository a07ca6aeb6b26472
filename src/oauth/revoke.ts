import type { Config, Env } from '../env'
import { getDb } from '../db/client'
import { deleteSession, getSession } from '../db/oauth'
import { verifyAccessToken } from './accessToken'
import { readParams } from './params'

/**
 * POST /oauth/revoke (RFC 7009): ends the session an access or refresh token
 * belongs to. The answer is always 200 `{}`, whether the token was valid,
 * unknown or already revoked, so it tells nothing about tokens.
 */
export async function revokeEndpoint(req: Request, env: Env, config: Config): Promise<Response> {
  const ok = () => Response.json({}, { headers: { 'cache-control': 'no-store' } })
  let params: Record<string, string>
  try {
    params = await readParams(req)
  } catch {
    return ok()
  }
  const token = params.token ?? ''
  const db = getDb(env.DB)
  let sessionId: string | undefined
  if (token.split('.').length === 3) {
    const check = await verifyAccessToken(config, token)
    if (check.ok) sessionId = check.claims.sid
  } else if (token.split('.').length === 2) {
    sessionId = token.split('.')[0]
  }
  if (sessionId) {
    const session = await getSession(db, sessionId)
    if (session && (!params.client_id || params.client_id === session.clientId)) await deleteSession(db, sessionId)
  }
  return ok()
}
