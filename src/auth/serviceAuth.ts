import type { Keypair } from '@atproto/crypto'
import { base64url } from 'multiformats/bases/base64'

/** Lifetime of the tokens the proxy attaches to each forwarded call. */
export const SERVICE_JWT_TTL_SECONDS = 60

export interface ServiceJwtClaims {
  /** The account DID making the call. */
  iss: string
  /** The receiving service's DID (the proxy sends it without the `#service` fragment, as the reference PDS does). */
  aud: string
  /** The XRPC method the token is good for; null for a method-less token. */
  lxm: string | null
  /** Expiry in Unix seconds; defaults to 60 s from now. */
  exp?: number
}

/**
 * An inter-service JWT (atproto "service auth"): `{typ: JWT, alg: ES256K}` over
 * the claims, signed with the repo key. `jose` cannot sign ES256K, and the
 * format is small: the signature is the keypair's 64-byte compact low-S
 * signature over SHA-256 of `header.payload`, which `Keypair.sign` computes.
 */
export async function createServiceJwt(keypair: Keypair, claims: ServiceJwtClaims): Promise<string> {
  const iat = Math.floor(Date.now() / 1000)
  const header = { typ: 'JWT', alg: keypair.jwtAlg }
  const payload = {
    iat,
    iss: claims.iss,
    aud: claims.aud,
    exp: claims.exp ?? iat + SERVICE_JWT_TTL_SECONDS,
    ...(claims.lxm ? { lxm: claims.lxm } : {}),
    jti: randomHex(16),
  }
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`
  const sig = await keypair.sign(new TextEncoder().encode(signingInput))
  return `${signingInput}.${base64url.baseEncode(sig)}`
}

/**
 * Methods that only the account itself may call directly: never proxied and
 * never the `lxm` of a service token (reference PDS `PROTECTED_METHODS`).
 */
const PROTECTED_METHODS = new Set(
  [
    'com.atproto.admin.sendEmail',
    'com.atproto.identity.requestPlcOperationSignature',
    'com.atproto.identity.signPlcOperation',
    'com.atproto.identity.updateHandle',
    'com.atproto.server.activateAccount',
    'com.atproto.server.confirmEmail',
    'com.atproto.server.createAppPassword',
    'com.atproto.server.deactivateAccount',
    'com.atproto.server.getAccountInviteCodes',
    'com.atproto.server.getSession',
    'com.atproto.server.listAppPasswords',
    'com.atproto.server.requestAccountDelete',
    'com.atproto.server.requestEmailConfirmation',
    'com.atproto.server.requestEmailUpdate',
    'com.atproto.server.revokeAppPassword',
    'com.atproto.server.updateEmail',
  ].map((m) => m.toLowerCase()),
)

export function isProtectedMethod(nsid: string): boolean {
  return PROTECTED_METHODS.has(nsid.toLowerCase())
}

/** Methods a plain app password may not reach: direct messages and account creation elsewhere. */
export function isPrivilegedMethod(nsid: string): boolean {
  const lower = nsid.toLowerCase()
  return lower.startsWith('chat.bsky.') || lower === 'com.atproto.server.createaccount'
}

const encodeJson = (value: unknown) => base64url.baseEncode(new TextEncoder().encode(JSON.stringify(value)))

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('')
}
