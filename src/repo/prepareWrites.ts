import { TID } from '@atproto/common-web'
import { encode as cborEncode } from '@atproto/lex-cbor'
import { isCid, parseCid, type Cid } from '@atproto/lex-data'
import { jsonToLex } from '@atproto/lex-json'
import { jsonToLex as lexiconJsonToLex } from '@atproto/lexicon'
import { isValidNsid, isValidRecordKey } from '@atproto/syntax'
import { InvalidRequestError } from '../lib/errors'
import { lexicons, withoutStacks } from '../lib/lexicons'

/** Records above this (DAG-CBOR bytes) are refused, as the reference PDS's body limit would. */
export const MAX_RECORD_BYTES = 1024 * 1024
export const MAX_WRITES_PER_COMMIT = 200

export type ValidationStatus = 'valid' | 'unknown'

export interface BlobUse {
  cid: string
  mimeType: string
  size: number
}

/**
 * A write ready for the actor: validated, encoded, plain data only (it
 * crosses Durable Object RPC, which keeps no class instances).
 */
export interface PreparedWrite {
  action: 'create' | 'update' | 'delete'
  collection: string
  rkey: string
  /** DAG-CBOR of the record (create/update). */
  record?: Uint8Array
  /** undefined: no check; null: must not exist; string: current CID must equal it. */
  swapRecord?: string | null
  /** `update` from putRecord may create when absent. */
  upsert?: boolean
  validationStatus?: ValidationStatus
  blobs: BlobUse[]
}

export interface RecordInput {
  collection: unknown
  rkey?: unknown
  record: unknown
  validate?: boolean
}

export function prepareCreateOrUpdate(action: 'create' | 'update', input: RecordInput): PreparedWrite {
  const collection = checkCollection(input.collection)
  const rkey = input.rkey === undefined || input.rkey === null ? (action === 'create' ? TID.nextStr() : checkRkey(input.rkey)) : checkRkey(input.rkey)
  if (typeof input.record !== 'object' || input.record === null || Array.isArray(input.record)) {
    throw new InvalidRequestError('Record must be an object', 'InvalidRecord')
  }
  const json = { ...(input.record as Record<string, unknown>) }
  // As the reference PDS: a record without $type takes its collection's.
  if (json.$type === undefined) json.$type = collection
  if (json.$type !== collection) throw new InvalidRequestError(`Invalid $type: expected ${collection}, got ${String(json.$type)}`, 'InvalidRecord')

  let lex: Record<string, unknown>
  try {
    lex = jsonToLex(json as never) as Record<string, unknown>
  } catch (err) {
    throw new InvalidRequestError(`Invalid record: ${message(err)}`, 'InvalidRecord')
  }
  const validationStatus = validateRecord(collection, rkey, json, input.validate)
  let record: Uint8Array
  try {
    record = cborEncode(lex as never)
  } catch (err) {
    throw new InvalidRequestError(`Record cannot be encoded as DAG-CBOR: ${message(err)}`, 'InvalidRecord')
  }
  if (record.byteLength > MAX_RECORD_BYTES) throw new InvalidRequestError(`Record is too large (${record.byteLength} bytes)`, 'InvalidRecord')
  return { action, collection, rkey, record, validationStatus, blobs: findBlobUses(lex) }
}

export function prepareDelete(input: { collection: unknown; rkey: unknown }): PreparedWrite {
  return { action: 'delete', collection: checkCollection(input.collection), rkey: checkRkey(input.rkey), blobs: [] }
}

/**
 * `validate` unset: validate known collections, accept unknown ones;
 * `true`: unknown collections are refused; `false`: structure only.
 */
function validateRecord(collection: string, rkey: string, json: Record<string, unknown>, validate: boolean | undefined): ValidationStatus | undefined {
  if (validate === false) return undefined
  const def = lexicons.getDef(collection) as { type?: string; key?: string } | undefined
  if (!def || def.type !== 'record') {
    if (validate === true) throw new InvalidRequestError(`Lexicon not found: lex:${collection}`, 'InvalidRecord')
    return 'unknown'
  }
  if (def.key?.startsWith('literal:') && rkey !== def.key.slice('literal:'.length)) {
    throw new InvalidRequestError(`Invalid record key for ${collection}: must be ${def.key.slice('literal:'.length)}`, 'InvalidRecord')
  }
  if (def.key === 'tid' && !/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/.test(rkey)) {
    throw new InvalidRequestError(`Invalid record key for ${collection}: must be a TID`, 'InvalidRecord')
  }
  try {
    // @atproto/lexicon validates its own value shape (BlobRef instances), so convert for it.
    withoutStacks(() => lexicons.assertValidRecord(collection, lexiconJsonToLex(json as never)))
  } catch (err) {
    throw new InvalidRequestError(`Invalid ${collection} record: ${message(err)}`, 'InvalidRecord')
  }
  return 'valid'
}

function checkCollection(value: unknown): string {
  if (typeof value !== 'string' || !isValidNsid(value)) throw new InvalidRequestError(`Invalid collection NSID: ${String(value)}`)
  return value
}

function checkRkey(value: unknown): string {
  if (typeof value !== 'string' || !isValidRecordKey(value)) throw new InvalidRequestError(`Invalid record key: ${String(value)}`)
  return value
}

/**
 * Every `{$type: 'blob', ref, mimeType, size}` anywhere in the record; with
 * `legacy` also the pre-2023 `{cid, mimeType}` form old repos still hold
 * (imports track them; their size is unknown, -1).
 */
export function findBlobUses(value: unknown, found: BlobUse[] = [], opts: { legacy?: boolean } = {}): BlobUse[] {
  if (Array.isArray(value)) {
    for (const v of value) findBlobUses(v, found, opts)
  } else if (value && typeof value === 'object' && !isCid(value) && !(value instanceof Uint8Array)) {
    const obj = value as Record<string, unknown>
    if (obj.$type === 'blob' && isCid(obj.ref)) {
      found.push({ cid: (obj.ref as Cid).toString(), mimeType: String(obj.mimeType), size: Number(obj.size) })
    } else if (opts.legacy && isLegacyBlobRef(obj)) {
      found.push({ cid: obj.cid as string, mimeType: obj.mimeType as string, size: -1 })
    } else {
      for (const v of Object.values(obj)) findBlobUses(v, found, opts)
    }
  }
  return found
}

function isLegacyBlobRef(obj: Record<string, unknown>): boolean {
  const keys = Object.keys(obj)
  if (keys.length !== 2 || typeof obj.cid !== 'string' || typeof obj.mimeType !== 'string') return false
  try {
    parseCid(obj.cid)
    return true
  } catch {
    return false
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))
