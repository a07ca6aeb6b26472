import type { BatchCost } from '../src/lib/cost'
import type { PreparedWrite, ValidationStatus } from '../src/repo/prepareWrites'
import type { EventRow } from '../src/db/events'

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
  /** `cost`: the D1 batch this write was part of, and how many requests shared it. */
  | { ok: true; commit: { cid: string; rev: string } | null; results: WriteResult[]; cost?: BatchCost }
  | { ok: false; status: 400 | 401 | 500; error: string; message: string }

/** What the next commit builds on: the committed head and the last firehose seq. */
export interface Head {
  cid: string
  rev: string
  dataCid: string
  seq: number
  /** Writes are refused while the account is deactivated. */
  active: boolean
}

/** An event D1 has; the firehose fans it out. */
export interface CommittedEvent {
  seq: number
  frame: Uint8Array
}

/** An expected refusal: it changes nothing and reaches the client as an XRPC error. */
export class Refusal extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly status: 400 | 401 = 400,
  ) {
    super(message)
  }
}

/**
 * Account-level events (#identity, #account, #sync): they take the next seqs,
 * in queue order with commits, and land in D1 with their statements in one batch.
 */
export interface EventJob {
  build(firstSeq: number, head: Head): Promise<{ statements: D1PreparedStatement[]; events: EventRow[]; active?: boolean; moves?: Pick<Head, 'cid' | 'rev' | 'dataCid'> }>
  resolve(lastSeq: number): void
  reject(err: unknown): void
}
