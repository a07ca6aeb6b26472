import { signInOwner } from '../auth/ownerSignIn'
import type { Config, Env } from '../env'
import { getDb } from '../db/client'
import { listConsents, listSessionsFor, revokeClient } from '../db/oauth'
import { RateLimitExceededError } from '../lib/errors'
import { csrfFor, csrfMatches, signedInDid, signInCookie, signOutCookie } from './cookies'
import { errorPage, esc, renderPage } from './page'
import { describeScope } from './scopes'

/**
 * GET /oauth/apps: the owner's list of authorised apps, each with a revoke
 * button. Revoking deletes the app's consent and sessions, so its access
 * tokens stop working on their next use.
 */
export async function appsPage(req: Request, env: Env, config: Config, notice?: string): Promise<Response> {
  const did = await signedInDid(req, config)
  const csrf = csrfFor(req)
  const setCookies = csrf.setCookie ? [csrf.setCookie] : []
  if (!did) return signInForm(csrf.token, setCookies)
  const db = getDb(env.DB)
  const [consents, sessions] = await Promise.all([listConsents(db, did), listSessionsFor(db, did)])
  const rows = consents
    .map((c) => {
      const live = sessions.filter((s) => s.clientId === c.clientId && s.expiresAt > Date.now()).length
      return `<tr><td><strong>${esc(c.clientName ?? c.clientId)}</strong><div class="muted">${esc(c.clientId)}</div>
<ul class="scopes">${describeScope(c.scope).map((s) => `<li>${esc(s)}</li>`).join('')}</ul><div class="muted">${live} active session(s); allowed ${esc(new Date(c.updatedAt).toISOString().slice(0, 10))}</div></td>
<td><form method="post" action="/oauth/apps"><input type="hidden" name="csrf" value="${esc(csrf.token)}"><input type="hidden" name="client_id" value="${esc(c.clientId)}">
<button type="submit" name="action" value="revoke" aria-label="Revoke ${esc(c.clientName ?? c.clientId)}">Revoke</button></form></td></tr>`
    })
    .join('')
  const body = `<h1>Authorised apps</h1>${notice ? `<p role="status">${esc(notice)}</p>` : ''}
${consents.length ? `<table><thead><tr><th scope="col">App</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${rows}</tbody></table>` : '<p>No app is authorised to use your account.</p>'}
<form method="post" action="/oauth/apps"><input type="hidden" name="csrf" value="${esc(csrf.token)}"><div class="actions"><button type="submit" name="action" value="sign-out">Sign out</button></div></form>`
  return renderPage({ title: 'Authorised apps', body, setCookies })
}

/** POST /oauth/apps: sign in, revoke an app, or sign out. */
export async function appsSubmit(req: Request, env: Env, config: Config): Promise<Response> {
  const form = await req.formData().catch(() => null)
  const field = (name: string) => (typeof form?.get(name) === 'string' ? (form!.get(name) as string) : undefined)
  if (!form || !csrfMatches(req, field('csrf'))) return errorPage('Request refused', 'The form has expired. Reload the page and try again.', 403)
  const db = getDb(env.DB)
  const action = field('action')
  if (action === 'sign-in') {
    let account
    try {
      account = await signInOwner(db, req, config, field('identifier') ?? '', field('password') ?? '')
    } catch (err) {
      if (err instanceof RateLimitExceededError) return signInForm(field('csrf')!, [], err.message, 429)
      throw err
    }
    if (!account) return signInForm(field('csrf')!, [], 'Wrong handle or password.', 401)
    return seeOther('/oauth/apps', [await signInCookie(config, account.did)])
  }
  const did = await signedInDid(req, config)
  if (!did) return seeOther('/oauth/apps')
  if (action === 'sign-out') return seeOther('/oauth/apps', [signOutCookie(config)])
  if (action === 'revoke' && field('client_id')) {
    await revokeClient(db, did, field('client_id')!)
    return seeOther('/oauth/apps')
  }
  return errorPage('Request refused', 'Unknown action.')
}

function signInForm(csrf: string, setCookies: string[], error?: string, status?: number): Response {
  const body = `<h1>Sign in to manage your apps</h1>${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/oauth/apps"><input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="action" value="sign-in">
<label for="identifier">Handle</label><input type="text" id="identifier" name="identifier" autocomplete="username" autocapitalize="none" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Sign in</button></div></form>`
  return renderPage({ title: 'Authorised apps', body, setCookies, status })
}

function seeOther(location: string, setCookies: string[] = []): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' })
  for (const c of setCookies) headers.append('set-cookie', c)
  return new Response(null, { status: 303, headers })
}
