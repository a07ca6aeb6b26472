import type { PreparedWrite, ValidationStatus } from '../src/repo/prepareWrites'

/** The actor's write contract: plain data in, plain data out (DO RPC keeps no classes). */
export interface ApplyWritesRequest {
  writes: PreparedWrite[]
  swapCommit?: string
}

export interface WriteResult {
  action: PreparedWrite['action']
  uri: string
  cid?: string
  validationStatus?: ValidationStatus
}

/** Expected failures come back as values; the Worker turns them into XRPC errors. */
export type ApplyWritesOutcome =
  | { ok: true; commit: { cid: string; rev: string } | null; results: WriteResult[] }
  | { ok: false; status: 400 | 401; error: string; message: string }
