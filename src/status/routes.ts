import { readConfig, type Env } from '../env'
import { signInOwner } from '../auth/ownerSignIn'
import { getAccount } from '../db/accounts'
import { getDb } from '../db/client'
import { AuthRequiredError, RateLimitExceededError } from '../lib/errors'
import { VERSION } from '../version'
import { ownerFigures } from './figures'
import { clearOwnerCookie, formIsGenuine, isOwner, newCsrf, ownerCookie } from './ownerSession'
import { renderPage } from './page'

/** `/`: the status page; `/status/*`: the owner's sign-in and the inspection endpoint (listed in src/xrpc/routes.ts). */

/** No script, no external anything; the one inline style is allowed by its nonce. */
const csp = (nonce: string) =>
  `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`

async function page(req: Request, env: Env, status: number, message?: string): Promise<Response> {
  const config = readConfig(env)
  const account = await getAccount(getDb(env.DB), config)
  const owner = (await isOwner(req, config)) ? await ownerFigures(env, config, account) : null
  const csrf = newCsrf(config, req)
  const nonce = crypto.randomUUID().replaceAll('-', '')
  const headers = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp(nonce),
    'x-content-type-options': 'nosniff',
    // Not no-referrer: with it Chromium sends `Origin: null` on the page's own forms.
    'referrer-policy': 'same-origin',
    // The owner's figures are private and live.
    'cache-control': owner ? 'no-store' : 'no-cache',
  })
  if (csrf.setCookie) headers.append('set-cookie', csrf.setCookie)
  return new Response(renderPage({ account, version: VERSION, csrf: csrf.token, nonce, owner, message }), { status, headers })
}

const seeStatusPage = (setCookie: string) => new Response(null, { status: 303, headers: { location: '/', 'set-cookie': setCookie, 'cache-control': 'no-store' } })

export const statusPage = (req: Request, env: Env) => page(req, env, 200)

export async function statusSignIn(req: Request, env: Env): Promise<Response> {
  const config = readConfig(env)
  const form = await req.formData().catch(() => new FormData())
  if (!formIsGenuine(req, config, form)) return page(req, env, 403, 'Sign-in refused: reload this page and try again.')
  // The same password check and failed-login limit as createSession.
  const db = getDb(env.DB)
  const password = form.get('password')
  try {
    if (typeof password !== 'string' || !(await signInOwner(db, req, config, null, password))) return page(req, env, 401, 'Wrong password.')
  } catch (err) {
    if (err instanceof RateLimitExceededError) return page(req, env, 429, 'Too many failed sign-ins: try again in a few minutes.')
    throw err
  }
  return seeStatusPage(await ownerCookie(config))
}

export async function statusSignOut(req: Request, env: Env): Promise<Response> {
  const config = readConfig(env)
  const form = await req.formData().catch(() => new FormData())
  if (!formIsGenuine(req, config, form)) return page(req, env, 403, 'Sign-out refused: reload this page and try again.')
  return seeStatusPage(clearOwnerCookie(config))
}

/** The same figures as JSON, for `npm run inspect` (owner's access token) and the signed-in page. */
export async function statusInspect(req: Request, env: Env): Promise<Response> {
  const config = readConfig(env)
  if (!(await isOwner(req, config))) throw new AuthRequiredError('The owner signs in first (password session or status page)', 'AuthMissing')
  return Response.json(await ownerFigures(env, config), { headers: { 'cache-control': 'no-store' } })
}
