import { p256 } from '@noble/curves/p256'
import { importJWK, type JWK } from 'jose'
import type { Config } from '../env'

/**
 * Every OAuth secret derives from JWT_SECRET with HKDF (one label per use), so
 * an operator has nothing new to configure and rotating JWT_SECRET rotates all
 * of them: the authorization server's ES256 key (access tokens, published at
 * jwks_uri), the DPoP nonce key and the sign-in cookie key.
 */
export interface OAuthKeys {
  /** Private ES256 key that signs access tokens. */
  signingKey: CryptoKey
  /** Public half, as `jwks_uri` serves it. */
  publicJwk: JWK & { kid: string }
  nonceKey: CryptoKey
  cookieKey: Uint8Array
}

const cache = new WeakMap<Config, Promise<OAuthKeys>>()

export function oauthKeys(config: Config): Promise<OAuthKeys> {
  let keys = cache.get(config)
  if (!keys) {
    keys = deriveKeys(config.jwtSecret)
    cache.set(config, keys)
  }
  return keys
}

async function deriveKeys(secret: Uint8Array): Promise<OAuthKeys> {
  const scalar = await derive(secret, 'rawkode-pds oauth es256 key')
  // A 256-bit value is below the P-256 group order except with negligible odds; normalising rejects 0 and n+.
  const d = p256.utils.normPrivateKeyToScalar(scalar)
  const priv = bigToBytes(d)
  const pub = p256.getPublicKey(priv, false)
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  const x = b64(pub.slice(1, 33))
  const y = b64(pub.slice(33, 65))
  const kid = `pds-${x.slice(0, 12)}`
  const signingKey = (await importJWK({ kty: 'EC', crv: 'P-256', x, y, d: b64(priv) }, 'ES256')) as CryptoKey
  const publicJwk = { kty: 'EC', crv: 'P-256', x, y, kid, use: 'sig', alg: 'ES256' }
  const nonceKey = await crypto.subtle.importKey('raw', await derive(secret, 'rawkode-pds dpop nonce'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const cookieKey = await derive(secret, 'rawkode-pds oauth sign-in cookie')
  return { signingKey, publicJwk, nonceKey, cookieKey }
}

async function derive(secret: Uint8Array, info: string): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: new TextEncoder().encode(info) }, base, 256)
  return new Uint8Array(bits)
}

function bigToBytes(n: bigint): Uint8Array {
  return Uint8Array.from(n.toString(16).padStart(64, '0').match(/../g)!, (h) => parseInt(h, 16))
}
