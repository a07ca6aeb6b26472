// Production secrets, generated on this machine and handed to `wrangler secret put`.
import { randomBytes } from 'node:crypto'
import { Secp256k1Keypair } from '@atproto/crypto'

/** A secp256k1 private key as 64 hex characters (PDS_SIGNING_KEY, PLC_ROTATION_KEY) and its public did:key. */
export async function newSecp256k1Key() {
  const key = await Secp256k1Keypair.create({ exportable: true })
  return { hex: Buffer.from(await key.export()).toString('hex'), didKey: key.did() }
}

/** The public did:key of a hex private key. */
export async function didKeyOf(hex) {
  return (await Secp256k1Keypair.import(hex)).did()
}

export const newJwtSecret = () => randomBytes(32).toString('hex')

/** 24 URL-safe characters: typeable on a phone, 144 bits. */
export const newPassword = () => randomBytes(18).toString('base64url')
