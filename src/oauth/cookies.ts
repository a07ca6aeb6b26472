import { jwtVerify, SignJWT } from 'jose'
import type { Config } from '../env'
import { oauthKeys } from './keys'

/** The owner's sign-in on the authorization server's pages (not an XRPC session). */
const SIGN_IN_COOKIE = 'pds-oauth-signin'
const CSRF_COOKIE = 'pds-oauth-csrf'
export const SIGN_IN_TTL_S = 7 * 86400

export function readCookie(req: Request, name: string): string | null {
  for (const part of (req.headers.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return null
}

function attributes(config: Config, maxAge: number): string {
  const secure = config.publicUrl.startsWith('https:') ? '; Secure' : ''
  return `Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`
}

export async function signInCookie(config: Config, did: string): Promise<string> {
  const { cookieKey } = await oauthKeys(config)
  const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(did).setAudience('oauth-signin').setIssuedAt().setExpirationTime(`${SIGN_IN_TTL_S}s`).sign(cookieKey)
  return `${SIGN_IN_COOKIE}=${jwt}; ${attributes(config, SIGN_IN_TTL_S)}`
}

export function signOutCookie(config: Config): string {
  return `${SIGN_IN_COOKIE}=; ${attributes(config, 0)}`
}

/** The DID signed in on this browser, if the cookie is ours, current and for this PDS's account. */
export async function signedInDid(req: Request, config: Config): Promise<string | null> {
  const jwt = readCookie(req, SIGN_IN_COOKIE)
  if (!jwt) return null
  const { cookieKey } = await oauthKeys(config)
  try {
    const { payload } = await jwtVerify(jwt, cookieKey, { algorithms: ['HS256'], audience: 'oauth-signin' })
    return payload.sub === config.did ? payload.sub : null
  } catch {
    return null
  }
}

/** Double-submit CSRF token: the form carries the same random value as the cookie. */
export function csrfFor(req: Request): { token: string; setCookie: string | null } {
  const existing = readCookie(req, CSRF_COOKIE)
  if (existing && /^[A-Za-z0-9_-]{20,64}$/.test(existing)) return { token: existing, setCookie: null }
  const raw = crypto.getRandomValues(new Uint8Array(24))
  const token = btoa(String.fromCharCode(...raw)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  return { token, setCookie: `${CSRF_COOKIE}=${token}; Path=/oauth; HttpOnly; SameSite=Strict; Max-Age=86400` }
}

export function csrfMatches(req: Request, submitted: string | undefined): boolean {
  const cookie = readCookie(req, CSRF_COOKIE)
  return !!cookie && !!submitted && cookie === submitted
}
