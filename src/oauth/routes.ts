import { readConfig, type Config, type Env } from '../env'
import { appsPage, appsSubmit } from './apps'
import { authorizePage, authorizeSubmit } from './authorize'
import { OAuthError } from './errors'
import { authorizationServerMetadata, jwks, protectedResourceMetadata } from './metadata'
import { currentNonce } from './nonce'
import { pushAuthorizationRequest } from './par'
import { revokeEndpoint } from './revoke'
import { tokenEndpoint } from './token'

type Handler = (req: Request, env: Env, config: Config) => Promise<Response> | Response

/**
 * Every OAuth route, listed in the inventory (src/xrpc/routes.ts). Errors of
 * the authorization server's own endpoints render as `{error, error_description}`.
 */
export const oauthRoutes = (
  [
    ['GET', '/.well-known/oauth-protected-resource', (_r, _e, c) => cachedJson(protectedResourceMetadata(c))],
    ['GET', '/.well-known/oauth-authorization-server', (_r, _e, c) => cachedJson(authorizationServerMetadata(c))],
    ['GET', '/oauth/jwks', async (_r, _e, c) => cachedJson(await jwks(c))],
    ['POST', '/oauth/par', pushAuthorizationRequest],
    ['GET', '/oauth/authorize', authorizePage],
    ['POST', '/oauth/authorize', authorizeSubmit],
    ['POST', '/oauth/token', tokenEndpoint],
    ['POST', '/oauth/revoke', revokeEndpoint],
    ['GET', '/oauth/apps', (r, e, c) => appsPage(r, e, c)],
    ['POST', '/oauth/apps', appsSubmit],
  ] as const satisfies readonly (readonly ['GET' | 'POST', string, Handler])[]
).map(([method, path, handler]) => ({
  method,
  path,
  handler: async (req: Request, env: Env): Promise<Response> => {
    try {
      return await handler(req, env, readConfig(env))
    } catch (err) {
      if (err instanceof OAuthError) return err.toResponse()
      throw err
    }
  },
}))

function cachedJson(body: unknown): Response {
  return Response.json(body, { headers: { 'cache-control': 'public, max-age=300' } })
}

/**
 * RFC 9449 §8: a fresh `DPoP-Nonce` on every OAuth and XRPC response, so a
 * client always holds a current nonce (CORS exposes the header).
 */
export async function setDpopNonce(res: Response, env: Env): Promise<void> {
  if (res.status === 101 || res.webSocket) return
  try {
    res.headers.set('dpop-nonce', await currentNonce(readConfig(env)))
  } catch {
    // Immutable headers (a passed-through response) keep what they have.
  }
}
