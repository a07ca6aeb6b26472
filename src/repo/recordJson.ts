import { decode } from '@atproto/lex-cbor'
import { lexToJson } from '@atproto/lex-json'

/** A stored record's DAG-CBOR as atproto JSON (CIDs → {$link}, bytes → {$bytes}). */
export function recordToJson(content: Uint8Array): unknown {
  return lexToJson(decode(content) as never)
}
