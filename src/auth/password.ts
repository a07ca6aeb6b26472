/**
 * Constant-time comparison: both sides are hashed first so neither the
 * content nor the length of the secret leaks through timing.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder()
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(given)),
    crypto.subtle.digest('SHA-256', enc.encode(expected)),
  ])
  return crypto.subtle.timingSafeEqual(a, b)
}

/** Every app password we issue has this shape (the reference PDS's): 16 base32 letters, 80 random bits. */
export const APP_PASSWORD_SHAPE = /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/

/**
 * How an app password is stored: `sha256$<hex SHA-256 of "<did>:<password>">`.
 * Deterministic, so a login finds the matching row with one hash and one
 * lookup instead of trying every app password (which made each failed login
 * cost one slow hash per app password). A fast hash is enough here because
 * we generate every app password with 80 random bits: no dictionary to try,
 * and 2^80 guesses are out of reach with or without key stretching.
 */
export async function appPasswordHash(did: string, password: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${did}:${password}`)))
  return `sha256$${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** Whether a stored hash is the older salted PBKDF2 form (`pbkdf2$<iterations>$<salt>$<hash>`), replaced on its next login. */
export const isLegacyHash = (stored: string) => stored.startsWith('pbkdf2$')

/** Checks a password against a legacy PBKDF2 hash. */
export async function verifyLegacyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$')
  if (scheme !== 'pbkdf2' || !iterations || !salt || !hash) return false
  const actual = await pbkdf2(password, unb64(salt), Number(iterations))
  const expected = unb64(hash)
  return actual.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(actual, expected)
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256)
  return new Uint8Array(bits)
}

const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
