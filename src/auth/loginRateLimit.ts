/**
 * Who may try a password, and how often. Attempts are limited per source,
 * never for the whole server (a global counter lets anyone lock the owner
 * out), and reserved before the password is checked, so parallel attempts
 * cannot all slip past the limit. A source gets a burst of tries, then one
 * per interval for as long as it keeps failing: an attacker is slowed to a
 * trickle, while the owner sharing that address still gets a slot each
 * interval, and a successful login gives its attempt back.
 */
import type { Db } from '../db/client'
import { releaseAttempt, reserveAttempt, type LimitRule } from '../db/loginLimit'
import { RateLimitExceededError } from '../lib/errors'

export const LOGIN_LIMIT: LimitRule = { burst: 10, intervalMs: 60_000 }

export interface LoginReservation {
  /** Call when the password was right: the attempt is not counted. */
  release(): Promise<void>
}

/** Reserves an attempt for the request's source, or refuses with 429 and Retry-After. */
export async function reserveLogin(db: Db, req: Request, now = Date.now()): Promise<LoginReservation> {
  const key = loginSource(req)
  const waitMs = await reserveAttempt(db, key, LOGIN_LIMIT, now)
  if (waitMs !== null) throw new RateLimitExceededError(Math.ceil(waitMs / 1000))
  return { release: () => releaseAttempt(db, key, LOGIN_LIMIT) }
}

/**
 * The request's source: the address Cloudflare saw, from `CF-Connecting-IP`
 * (which Cloudflare sets and a client cannot), never `X-Forwarded-For` (which
 * any client can fill with a fresh address per attempt). IPv6 counts per /64,
 * the block one subscriber usually holds. Without the header (local dev,
 * tests) every request is one source.
 */
export function loginSource(req: Request): string {
  const ip = req.headers.get('cf-connecting-ip')?.trim().toLowerCase() ?? ''
  const v4 = ipv4(ip) ?? ipv4(ip.replace(/^::ffff:/, ''))
  if (v4) return `ip4:${v4}`
  const v6 = ipv6Prefix64(ip)
  return v6 ? `ip6:${v6}::/64` : 'unknown'
}

function ipv4(text: string): string | null {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null
  return parts.map(Number).join('.')
}

/** The first four hextets of an IPv6 address, each without leading zeros; null when it is not one. */
function ipv6Prefix64(text: string): string | null {
  if (!/^[0-9a-f:.]+$/.test(text) || !text.includes(':')) return null
  const halves = text.split('::')
  if (halves.length > 2) return null
  const groups = (s: string) => (s === '' ? [] : s.split(':'))
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  // An embedded IPv4 tail counts as two groups; only the first four groups matter here.
  const tailLength = tail.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0)
  const missing = 8 - head.length - tailLength
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]
  const first = all.slice(0, 4)
  if (!first.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null
  return first.map((g) => parseInt(g, 16).toString(16)).join(':')
}
