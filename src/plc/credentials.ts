import { Secp256k1Keypair } from '@atproto/crypto'
import type { Config } from '../env'
import { getSigningKey } from '../identity/signingKey'

/** What a PLC operation must name for this PDS to host the identity. */
export interface PlcCredentials {
  rotationKeys: string[]
  alsoKnownAs: string[]
  verificationMethods: { atproto: string }
  services: { atproto_pds: { type: 'AtprotoPersonalDataServer'; endpoint: string } }
}

let rotationKey: { hex: string; key: Promise<Secp256k1Keypair> } | null = null

/** The key this PDS signs PLC operations with (`PLC_ROTATION_KEY`). */
export function getRotationKey(config: Config): Promise<Secp256k1Keypair> {
  if (!config.plcRotationKeyHex) throw new Error('PLC_ROTATION_KEY is not configured')
  if (rotationKey?.hex !== config.plcRotationKeyHex) rotationKey = { hex: config.plcRotationKeyHex, key: Secp256k1Keypair.import(config.plcRotationKeyHex) }
  return rotationKey.key
}

/** Our rotation key first, our signing key, the handle and our endpoint (getRecommendedDidCredentials). */
export async function recommendedCredentials(config: Config, handle: string): Promise<PlcCredentials> {
  const [rotation, signing] = await Promise.all([getRotationKey(config), getSigningKey(config.signingKeyHex)])
  return {
    rotationKeys: [rotation.did()],
    alsoKnownAs: [`at://${handle}`],
    verificationMethods: { atproto: signing.did() },
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: config.publicUrl } },
  }
}
