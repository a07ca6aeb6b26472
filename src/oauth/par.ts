import type { Config, Env } from '../env'
import { insertAuthRequest } from '../db/oauth'
import type { OAuthClientInfo } from './client'
import { invalidRequest } from './errors'
import { readClientRequest } from './clientRequest'
import { grantableScope } from './scopes'

export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:req-'
/** How long a pushed request waits for the owner: long enough to sign in, short enough not to linger. */
export const PAR_TTL_S = 600

/** The validated authorization request, as stored between PAR and the code exchange. */
export interface AuthorizationParameters {
  redirect_uri: string
  state: string
  scope: string
  code_challenge: string
  response_mode: 'query' | 'fragment'
  prompt?: 'none' | 'login' | 'consent' | 'select_account'
  login_hint?: string
}

/** POST /oauth/par (RFC 9126): validates and stores the request, answers 201 with a single-use request_uri. */
export async function pushAuthorizationRequest(req: Request, env: Env, config: Config): Promise<Response> {
  const { db, params, proof, client, clientAuth } = await readClientRequest(req, env, config, '/oauth/par')
  if (params.dpop_jkt && params.dpop_jkt !== proof.jkt) throw invalidRequest('dpop_jkt does not match the DPoP proof key')

  const parameters = validateParameters(params, client)
  const id = randomToken(24)
  const now = Date.now()
  await insertAuthRequest(db, {
    id,
    clientId: client.id,
    clientAuth: JSON.stringify(clientAuth),
    parameters: JSON.stringify(parameters),
    dpopJkt: proof.jkt,
    expiresAt: now + PAR_TTL_S * 1000,
    createdAt: now,
  })
  return Response.json({ request_uri: `${REQUEST_URI_PREFIX}${id}`, expires_in: PAR_TTL_S }, { status: 201, headers: { 'cache-control': 'no-store' } })
}

function validateParameters(params: Record<string, string>, client: OAuthClientInfo): AuthorizationParameters {
  if (params.request_uri || params.request) throw invalidRequest('request and request_uri are not allowed in a pushed request')
  if (params.response_type !== 'code') throw invalidRequest('response_type must be "code"')
  if (!params.code_challenge) throw invalidRequest('code_challenge is required (PKCE)')
  if (params.code_challenge_method !== 'S256') throw invalidRequest('code_challenge_method must be "S256"')
  if (!/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge)) throw invalidRequest('code_challenge must be a base64url SHA-256 digest')
  if (!params.state) throw invalidRequest('state is required')

  const registered = client.metadata.redirect_uris
  const redirectUri = params.redirect_uri ?? (registered.length === 1 ? registered[0] : undefined)
  if (!redirectUri) throw invalidRequest('redirect_uri is required when the client registers more than one')
  // Exact string match (RFC 9700 §4.1.3): no prefix, no port or path leniency.
  if (!registered.includes(redirectUri as (typeof registered)[number])) throw invalidRequest('redirect_uri does not match any registered redirect URI')

  const mode = params.response_mode ?? 'query'
  if (mode !== 'query' && mode !== 'fragment') throw invalidRequest('response_mode must be "query" or "fragment"')
  const prompt = params.prompt
  if (prompt !== undefined && !['none', 'login', 'consent', 'select_account'].includes(prompt)) throw invalidRequest(`Unsupported prompt "${prompt}"`)
  return {
    redirect_uri: redirectUri,
    state: params.state,
    scope: grantableScope(params.scope, client.metadata.scope),
    code_challenge: params.code_challenge,
    response_mode: mode,
    ...(prompt ? { prompt: prompt as AuthorizationParameters['prompt'] } : {}),
    ...(params.login_hint ? { login_hint: params.login_hint.slice(0, 256) } : {}),
  }
}

/** Replay protection for DPoP proofs sent to the authorization server. */
export function randomToken(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes))
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
