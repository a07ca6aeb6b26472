import * as dagCbor from '@ipld/dag-cbor'
import type { Keypair } from '@atproto/crypto'
import { verifySignature } from '@atproto/crypto'
import { CID } from 'multiformats/cid'
import { base64url } from 'multiformats/bases/base64'
import { sha256 } from 'multiformats/hashes/sha2'

/** A PLC operation as the directory stores it (did:plc spec, `plc_operation`). */
export interface PlcOperation {
  type: 'plc_operation'
  rotationKeys: string[]
  verificationMethods: Record<string, string>
  alsoKnownAs: string[]
  services: Record<string, { type: string; endpoint: string }>
  /** CID of the operation this one follows; null only for the genesis. */
  prev: string | null
  sig: string
}

export type UnsignedPlcOperation = Omit<PlcOperation, 'sig'>

/** The pre-2023 genesis format some old identities still start with. */
interface LegacyCreate {
  type: 'create'
  signingKey: string
  recoveryKey: string
  handle: string
  service: string
  prev: null
  sig: string
}

export type PlcLogEntry = PlcOperation | LegacyCreate | { type: 'plc_tombstone'; prev: string; sig: string }

/** `sig` is the rotation key's compact low-S signature over the DAG-CBOR of the operation without `sig`. */
export async function signOperation(op: UnsignedPlcOperation, rotationKey: Keypair): Promise<PlcOperation> {
  const sig = await rotationKey.sign(dagCbor.encode(op))
  return { ...op, sig: base64url.baseEncode(sig) }
}

/** Whether one of `rotationKeys` (did:key) signed `op`. */
export async function signedByOneOf(op: PlcOperation, rotationKeys: string[]): Promise<boolean> {
  const { sig, ...unsigned } = op
  let bytes: Uint8Array
  try {
    bytes = base64url.baseDecode(sig)
  } catch {
    return false
  }
  const data = dagCbor.encode(unsigned)
  for (const key of rotationKeys) {
    if (await verifySignature(key, data, bytes).catch(() => false)) return true
  }
  return false
}

/** The CID the next operation names as `prev`: sha-256 over the signed operation's DAG-CBOR. */
export async function operationCid(op: PlcLogEntry): Promise<string> {
  const bytes = dagCbor.encode(op)
  return CID.createV1(dagCbor.code, await sha256.digest(bytes)).toString()
}

/** The fields of the latest operation, in the current format, ready to be changed and signed anew. */
export async function nextOperation(last: PlcLogEntry): Promise<UnsignedPlcOperation> {
  const prev = await operationCid(last)
  if (last.type === 'plc_operation') {
    const { sig: _, prev: __, ...fields } = last
    return { ...fields, prev }
  }
  if (last.type === 'create') {
    return {
      type: 'plc_operation',
      rotationKeys: [last.recoveryKey, last.signingKey],
      verificationMethods: { atproto: last.signingKey },
      alsoKnownAs: [`at://${last.handle}`],
      services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: last.service } },
      prev,
    }
  }
  throw new Error('the DID has been tombstoned')
}
