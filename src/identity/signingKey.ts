import { Secp256k1Keypair } from '@atproto/crypto'

const keys = new Map<string, Promise<Secp256k1Keypair>>()

/** The repo signing key, imported once per isolate. */
export function getSigningKey(hex: string): Promise<Secp256k1Keypair> {
  let key = keys.get(hex)
  if (!key) {
    key = Secp256k1Keypair.import(hex)
    keys.set(hex, key)
  }
  return key
}
