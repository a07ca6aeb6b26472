import { SignJWT } from 'jose'
import type { Config } from '../env'
import { authenticate } from '../auth/verifier'
import { verifyToken } from '../auth/tokens'

/**
 * The owner's sign-in on the status page: a short-lived HS256 token in an
 * HttpOnly, SameSite=Strict cookie. Its scope is one no XRPC method accepts,
 * and the cookie accepts no other scope, so it is never a bearer token.
 */
const STATUS_SCOPE = 'rawkode.status'
const TTL_SECONDS = 12 * 60 * 60

const secure = (config: Config) => config.publicUrl.startsWith('https://')
/** `__Host-` pins the cookie to this exact origin over https; plain http (localhost) cannot carry the prefix. */
const sessionCookie = (config: Config) => (secure(config) ? '__Host-pds-owner' : 'pds-owner')
const csrfCookie = (config: Config) => (secure(config) ? '__Host-pds-csrf' : 'pds-csrf')

function cookie(config: Config, name: string, value: string, maxAge: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure(config) ? '; Secure' : ''}`
}

function readCookie(req: Request, name: string): string | null {
  for (const part of (req.headers.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return null
}

export async function ownerCookie(config: Config): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({ scope: STATUS_SCOPE })
    .setProtectedHeader({ alg: 'HS256', typ: 'status+jwt' })
    .setSubject(config.did)
    .setAudience(config.did)
    .setIssuedAt(now)
    .setExpirationTime(now + TTL_SECONDS)
    .sign(config.jwtSecret)
  return cookie(config, sessionCookie(config), token, TTL_SECONDS)
}

export const clearOwnerCookie = (config: Config) => cookie(config, sessionCookie(config), '', 0)

/** The owner: a valid status cookie, or (for `npm run inspect`) the owner's own access token. */
export async function isOwner(req: Request, config: Config): Promise<boolean> {
  const token = readCookie(req, sessionCookie(config))
  if (token) {
    const ok = await verifyToken(config, token, [STATUS_SCOPE]).then(
      (v) => v.did === config.did,
      () => false,
    )
    if (ok) return true
  }
  if (!req.headers.get('authorization')) return false
  return authenticate(req, config, 'full').then(
    () => true,
    () => false,
  )
}

/**
 * Forms carry a CSRF token that must match the cookie set with the page
 * (double submit), and a cross-site request is refused outright by its
 * Origin / Sec-Fetch-Site headers. Both must hold.
 */
export function newCsrf(config: Config, req: Request): { token: string; setCookie: string | null } {
  const existing = readCookie(req, csrfCookie(config))
  if (existing && /^[0-9a-f]{32}$/.test(existing)) return { token: existing, setCookie: null }
  const token = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('')
  return { token, setCookie: cookie(config, csrfCookie(config), token, TTL_SECONDS) }
}

export function formIsGenuine(req: Request, config: Config, form: FormData): boolean {
  const site = req.headers.get('sec-fetch-site')
  if (site && site !== 'same-origin') return false
  const origin = req.headers.get('origin')
  if (origin && origin !== new URL(req.url).origin && origin !== config.publicUrl) return false
  const expected = readCookie(req, csrfCookie(config))
  const given = form.get('csrf')
  return typeof given === 'string' && expected !== null && /^[0-9a-f]{32}$/.test(given) && given === expected
}
