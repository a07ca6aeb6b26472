import * as dagCbor from '@ipld/dag-cbor'
import { decodeFirst } from 'cborg'

/**
 * subscribeRepos wire format: each WebSocket message is a DAG-CBOR header
 * followed by a DAG-CBOR body (atproto event-stream spec). The tests decode
 * with this same module.
 */
export type FrameHeader = { op: 1; t: string } | { op: -1 }

export function encodeMessageFrame(type: '#commit' | '#sync' | '#identity' | '#account' | '#info', body: Record<string, unknown>): Uint8Array {
  return concat(dagCbor.encode({ op: 1, t: type }), dagCbor.encode(dropUndefined(body)))
}

export function encodeErrorFrame(error: string, message?: string): Uint8Array {
  return concat(dagCbor.encode({ op: -1 }), dagCbor.encode(message ? { error, message } : { error }))
}

export function decodeFrame(bytes: Uint8Array): { header: FrameHeader; body: Record<string, any> } {
  // The header carries no links, so plain CBOR reads it and says where the body starts.
  const [header, rest] = decodeFirst(bytes) as [FrameHeader, Uint8Array]
  return { header, body: dagCbor.decode(rest) as Record<string, any> }
}

/** The header's `t` (`#commit`, `#account`, …) read without decoding the body; undefined for an error frame. */
export function frameType(bytes: Uint8Array): string | undefined {
  const [header] = decodeFirst(bytes) as [FrameHeader, Uint8Array]
  return header.op === 1 ? header.t : undefined
}

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v
  return out
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}
