import { signInOwner } from '../auth/ownerSignIn'
import type { Config, Env } from '../env'
import { getAccount } from '../db/accounts'
import { getDb, type Db } from '../db/client'
import { approveAuthRequest, deleteAuthRequest, getAuthRequest, getConsent, putConsent, type OAuthRequestRow } from '../db/oauth'
import { RateLimitExceededError } from '../lib/errors'
import { resolveClient, type OAuthClientInfo } from './client'
import { csrfFor, csrfMatches, signedInDid, signInCookie } from './cookies'
import { OAuthError } from './errors'
import { errorPage, esc, formTargetFor, renderPage } from './page'
import { randomToken, REQUEST_URI_PREFIX, type AuthorizationParameters } from './par'
import { describeScope, isCoveredBy } from './scopes'

/** An authorization code is good for one exchange within this time. */
export const CODE_TTL_MS = 5 * 60_000

interface Loaded {
  row: OAuthRequestRow
  params: AuthorizationParameters
  client: OAuthClientInfo
}

/**
 * GET /oauth/authorize: shows the sign-in and consent page. Looking at it
 * changes nothing (link-preview bots fetch these URLs too): the request_uri
 * is only consumed when the owner submits the form, or for `prompt=none`
 * when the browser is already signed in and consent is already given.
 */
export async function authorizePage(req: Request, env: Env, config: Config): Promise<Response> {
  const url = new URL(req.url)
  const db = getDb(env.DB)
  const loaded = await load(db, env, config, url.searchParams.get('request_uri'), url.searchParams.get('client_id'))
  if (loaded instanceof Response) return loaded
  const { row, params, client } = loaded
  const did = await signedInDid(req, config)
  const consent = did ? await getConsent(db, did, client.id) : undefined
  const consented = !!consent && isCoveredBy(params.scope, consent.scope)

  if (params.prompt === 'none') {
    if (!did) return redirectWithError(config, params, 'login_required', 'The owner is not signed in')
    if (!consented) return redirectWithError(config, params, 'consent_required', 'The owner has not approved this app yet')
    return approve(db, config, row, params, client, did, [])
  }
  const csrf = csrfFor(req)
  return consentPage(config, loaded, {
    csrf: csrf.token,
    setCookies: csrf.setCookie ? [csrf.setCookie] : [],
    needsPassword: !did || params.prompt === 'login',
    consented: consented && params.prompt !== 'consent',
    signedInAs: did ? (await getAccount(db, config)).handle : undefined,
  })
}

/** POST /oauth/authorize: the owner's answer, from our own form. */
export async function authorizeSubmit(req: Request, env: Env, config: Config): Promise<Response> {
  const origin = req.headers.get('origin')
  if (origin && origin !== new URL(config.publicUrl).origin && origin !== new URL(req.url).origin) return errorPage('Request refused', 'This form can only be submitted from this server’s own page.', 403)
  const form = await req.formData().catch(() => null)
  if (!form) return errorPage('Request refused', 'The form could not be read.')
  const field = (name: string) => (typeof form.get(name) === 'string' ? (form.get(name) as string) : undefined)
  if (!csrfMatches(req, field('csrf'))) return errorPage('Request refused', 'The form has expired or was not opened in this browser. Reload it and try again.', 403)

  const db = getDb(env.DB)
  const loaded = await load(db, env, config, field('request_uri') ?? null, field('client_id') ?? null)
  if (loaded instanceof Response) return loaded
  const { row, params, client } = loaded

  if (field('decision') !== 'allow') {
    await deleteAuthRequest(db, row.id)
    return redirectWithError(config, params, 'access_denied', 'The owner declined')
  }

  let did = params.prompt === 'login' ? null : await signedInDid(req, config)
  const setCookies: string[] = []
  if (!did) {
    let account
    try {
      account = await signInOwner(db, req, config, field('identifier') ?? '', field('password') ?? '')
    } catch (err) {
      if (err instanceof RateLimitExceededError) return consentPage(config, loaded, { csrf: field('csrf')!, needsPassword: true, consented: false, error: err.message, status: 429 })
      throw err
    }
    if (!account) return consentPage(config, loaded, { csrf: field('csrf')!, needsPassword: true, consented: false, error: 'Wrong handle or password.', status: 401, identifier: field('identifier') })
    did = account.did
    setCookies.push(await signInCookie(config, did))
  }
  return approve(db, config, row, params, client, did, setCookies)
}

async function approve(db: Db, config: Config, row: OAuthRequestRow, params: AuthorizationParameters, client: OAuthClientInfo, did: string, setCookies: string[]): Promise<Response> {
  const code = randomToken(32)
  if (!(await approveAuthRequest(db, row.id, did, code, Date.now() + CODE_TTL_MS))) {
    return errorPage('Already answered', 'This sign-in request was already answered.')
  }
  const existing = await getConsent(db, did, client.id)
  const scope = existing ? [...new Set([...existing.scope.split(' '), ...params.scope.split(' ')])].join(' ') : params.scope
  await putConsent(db, { did, clientId: client.id, clientName: clientDisplayName(client), scope })
  return redirectTo(config, params, { code }, setCookies)
}

async function load(db: Db, env: Env, config: Config, requestUri: string | null, clientId: string | null): Promise<Loaded | Response> {
  if (!requestUri?.startsWith(REQUEST_URI_PREFIX) || !clientId) return errorPage('Sign-in link not valid', 'This link is missing its request or client. Apps must start sign-in with a pushed authorization request.')
  const row = await getAuthRequest(db, requestUri.slice(REQUEST_URI_PREFIX.length))
  if (!row || row.expiresAt < Date.now()) return errorPage('Sign-in link expired', 'This sign-in request has expired.')
  if (row.code) return errorPage('Already answered', 'This sign-in request was already answered.')
  if (row.clientId !== clientId) return errorPage('Sign-in link not valid', 'This request belongs to another app.')
  let client: OAuthClientInfo
  try {
    client = await resolveClient(row.clientId, config, env.CACHE)
  } catch (err) {
    if (err instanceof OAuthError) return errorPage('App not available', err.description)
    throw err
  }
  return { row, params: JSON.parse(row.parameters), client }
}

interface PageState {
  csrf: string
  needsPassword: boolean
  consented: boolean
  setCookies?: string[]
  error?: string
  status?: number
  identifier?: string
  signedInAs?: string
}

async function consentPage(config: Config, { row, params, client }: Loaded, state: PageState): Promise<Response> {
  const name = clientDisplayName(client)
  const logo = client.metadata.logo_uri?.startsWith('https://') ? `<img src="${esc(client.metadata.logo_uri)}" alt="">` : ''
  const from = client.loopback ? 'running on this computer (loopback client)' : new URL(client.id).hostname
  const scopes = describeScope(params.scope)
  const identifier = state.identifier ?? params.login_hint ?? ''
  const body = `
<div class="client">${logo}<div><h1>${state.needsPassword ? `Sign in to ${esc(name)}` : `Allow ${esc(name)}?`}</h1><div class="muted">${esc(from)}</div></div></div>
${state.signedInAs && !state.needsPassword ? `<p>Signed in as <strong>@${esc(state.signedInAs)}</strong>.</p>` : ''}
${state.error ? `<p class="error" role="alert">${esc(state.error)}</p>` : ''}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request_uri" value="${esc(`${REQUEST_URI_PREFIX}${row.id}`)}">
<input type="hidden" name="client_id" value="${esc(client.id)}">
<input type="hidden" name="csrf" value="${esc(state.csrf)}">
${
  state.needsPassword
    ? `<label for="identifier">Handle</label><input type="text" id="identifier" name="identifier" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${esc(identifier)}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>`
    : ''
}
<h2>${state.consented ? 'You already allowed this app to:' : `${esc(name)} asks to:`}</h2>
<ul class="scopes">${scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
<p class="muted">It will return to ${esc(params.redirect_uri)}. You can revoke it at any time from <a href="/oauth/apps">your authorised apps</a>.</p>
<div class="actions"><button class="primary" type="submit" name="decision" value="allow">${state.needsPassword ? 'Sign in and allow' : 'Allow'}</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></div>
</form>`
  return renderPage({ title: `Sign in to ${name}`, body, status: state.status, formTargets: [formTargetFor(params.redirect_uri)], setCookies: state.setCookies })
}

/** The authorization response (RFC 6749 §4.1.2 + RFC 9207 `iss`), in the query unless the client asked for the fragment. */
function redirectTo(config: Config, params: AuthorizationParameters, values: Record<string, string>, setCookies: string[] = []): Response {
  const url = new URL(params.redirect_uri)
  const out = new URLSearchParams({ ...values, state: params.state, iss: config.publicUrl })
  if (params.response_mode === 'fragment') url.hash = out.toString()
  else for (const [k, v] of out) url.searchParams.append(k, v)
  const headers = new Headers({ location: url.toString(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
  for (const c of setCookies) headers.append('set-cookie', c)
  return new Response(null, { status: 303, headers })
}

function redirectWithError(config: Config, params: AuthorizationParameters, error: string, description: string): Response {
  return redirectTo(config, params, { error, error_description: description })
}

/** What the owner sees the app called: its declared name, else where it comes from. */
function clientDisplayName(client: OAuthClientInfo): string {
  return client.metadata.client_name ?? (client.loopback ? 'A local development app' : new URL(client.id).hostname)
}
