/**
 * The Firehose class with stand-in sockets that report whatever
 * bufferedAmount the test sets, so a consumer's reading pace is under the
 * test's control (test/bench/firehose-backpressure.mjs measures real
 * sockets). D1 is the real one.
 */
import { env } from 'cloudflare:workers'
import type { Connection } from 'partyserver'
import { beforeEach, describe, expect, it } from 'vitest'
import { Firehose, type SubscriberState } from '../../actors/firehose'
import type { Head } from '../../actors/commitTypes'
import { decodeFrame, encodeMessageFrame } from '../../src/firehose/frames'

const db = (env as unknown as { DB: D1Database }).DB
const MAX = 10_000
const HIGH_WATER = 1_000

class StandInSocket {
  static #next = 0
  id = `s${StandInSocket.#next++}`
  state: SubscriberState | null = null
  readyState: number = WebSocket.OPEN
  sent: Uint8Array[] = []
  closed: { code?: number; reason?: string } | null = null
  /** What the runtime would report; undefined: a runtime that does not say. */
  bufferedAmount: number | undefined
  /** Bytes each send adds to bufferedAmount (0: the frame's own size). */
  growsBy: number

  constructor(opts: { buffered?: number; growsBy?: number } = {}) {
    this.bufferedAmount = opts.buffered
    this.growsBy = opts.growsBy ?? 0
  }

  setState(state: SubscriberState) {
    this.state = state
    return state
  }
  send(bytes: Uint8Array) {
    if (this.readyState !== WebSocket.OPEN) throw new Error('send on a closed socket')
    this.sent.push(bytes)
    if (this.bufferedAmount !== undefined) this.bufferedAmount += this.growsBy || bytes.byteLength
  }
  close(code?: number, reason?: string) {
    this.readyState = WebSocket.CLOSED
    this.closed = { code, reason }
  }
  frames() {
    return this.sent.map((b) => decodeFrame(b))
  }
  seqs() {
    return this.frames().flatMap((f) => (typeof f.body.seq === 'number' ? [f.body.seq] : []))
  }
}

function event(seq: number) {
  return { seq, frame: encodeMessageFrame('#identity', { seq, did: 'did:web:pds.test', time: new Date(0).toISOString() }) }
}

async function storeEvents(from: number, to: number, sequencedAt = Date.now()) {
  const rows = []
  for (let s = from; s <= to; s++) rows.push(db.prepare('INSERT INTO repo_event (seq, did, type, frame, sequenced_at) VALUES (?, ?, ?, ?, ?)').bind(s, 'did:web:pds.test', 'identity', event(s).frame, sequencedAt))
  await db.batch(rows)
}

/** A D1 whose repo_event reads and deletes wait at a gate the test opens. */
function gatedD1() {
  const gates: { sql: string; open: () => void }[] = []
  const gated = (sql: string, run: () => Promise<unknown>) =>
    new Promise((resolve, reject) => gates.push({ sql, open: () => run().then(resolve, reject) }))
  const d1 = {
    prepare(sql: string) {
      const real = db.prepare(sql)
      return {
        bind: (...args: unknown[]) => {
          const bound = real.bind(...args)
          return { all: () => gated(sql, () => bound.all()), run: () => gated(sql, () => bound.run()) }
        },
      }
    },
  } as unknown as D1Database
  return { d1, gates }
}

const settle = () => new Promise((r) => setTimeout(r, 20))

let sockets: StandInSocket[]
const makeFirehose = (lastSeq: number, d1 = db, retentionMs = 60_000) =>
  new Firehose(d1, () => sockets as unknown as Connection<SubscriberState>[], async () => ({ cid: '', rev: '', dataCid: '', seq: lastSeq }) as Head, retentionMs, {
    maxBuffered: MAX,
    replayHighWater: HIGH_WATER,
    drainPollMs: 1,
    replayStallMs: stallMs,
  })
let stallMs = 60_000

beforeEach(async () => {
  sockets = []
  await db.prepare('DELETE FROM repo_event').run()
})

describe('ConsumerTooSlow', () => {
  it('drops a live subscriber whose buffer grew past the bound with an error frame and a close; the others get every event', async () => {
    const firehose = makeFirehose(0)
    const fast = new StandInSocket({ buffered: 0, growsBy: 0 })
    const slow = new StandInSocket({ buffered: MAX - 100 })
    const unknown = new StandInSocket() // bufferedAmount undefined: never judged slow
    sockets.push(fast, slow, unknown)
    for (const s of sockets) await firehose.subscribe(s as unknown as Connection<SubscriberState>, null)

    firehose.broadcast([event(1), event(2)])
    firehose.broadcast([event(3)])

    expect(fast.seqs()).toEqual([1, 2, 3])
    expect(unknown.seqs()).toEqual([1, 2, 3])
    // The slow one took the batch that pushed it over, then the error frame, then the close, and nothing after.
    expect(slow.frames().at(-1)).toEqual({ header: { op: -1 }, body: { error: 'ConsumerTooSlow', message: expect.any(String) } })
    expect(slow.seqs()).toEqual([1, 2])
    expect(slow.closed).toEqual({ code: 1008, reason: 'ConsumerTooSlow' })
    expect(fast.closed).toBeNull()
  })

})

describe('replay backpressure', () => {
  it('a replay waits for its socket to drain instead of dropping it, while live subscribers get every event at once', async () => {
    await storeEvents(1, 50)
    const firehose = makeFirehose(50)
    const replayer = new StandInSocket({ buffered: 0, growsBy: 300 })
    const live = new StandInSocket({ buffered: 0, growsBy: 0 })
    sockets.push(replayer, live)
    await firehose.subscribe(live as unknown as Connection<SubscriberState>, null)
    await firehose.subscribe(replayer as unknown as Connection<SubscriberState>, '0')
    await settle()
    // Four frames put 1,200 bytes in its buffer, past the 1,000 high-water mark: it waits.
    expect(replayer.seqs()).toEqual([1, 2, 3, 4])
    await settle()
    expect(replayer.seqs()).toHaveLength(4)
    // A commit meanwhile reaches the live subscriber at once, not the paused replayer.
    await storeEvents(51, 51)
    firehose.broadcast([event(51)])
    expect(live.seqs()).toEqual([51])
    expect(replayer.seqs()).toHaveLength(4)
    // The consumer reads: the replay resumes, and so on until it is live, without a ConsumerTooSlow.
    for (let i = 0; i < 20 && replayer.state?.live !== true; i++) {
      replayer.bufferedAmount = 0
      await settle()
    }
    expect(replayer.seqs()).toEqual(Array.from({ length: 51 }, (_, i) => i + 1))
    expect(replayer.state).toEqual({ live: true })
    expect(replayer.closed).toBeNull()
    expect(replayer.frames().some((f) => f.header.op === -1)).toBe(false)
  })

  it('holds one page per stalled replayer: no further D1 reads until its socket drains', async () => {
    await storeEvents(1, 1200)
    const { d1, gates } = gatedD1()
    const firehose = makeFirehose(1200, d1)
    const stalled = new StandInSocket({ buffered: 0, growsBy: 400 })
    sockets.push(stalled)
    await firehose.subscribe(stalled as unknown as Connection<SubscriberState>, '0')
    gates.shift()!.open() // page 1
    await settle()
    await settle()
    expect(stalled.seqs()).toEqual([1, 2, 3])
    expect(gates).toHaveLength(0) // page 2 is not even asked for
    expect(stalled.state).toEqual({ live: false, cursor: 3 })
    stalled.bufferedAmount = undefined // from now on it keeps up
    await settle()
    expect(gates).toHaveLength(1)
    gates.shift()!.open()
    await settle()
    gates.shift()!.open()
    await settle()
    expect(stalled.seqs()).toHaveLength(1200)
    expect(stalled.state).toEqual({ live: true })
  })

  it('closes a replay whose consumer stopped reading for good, so it cannot hold pruning off forever', async () => {
    stallMs = 30
    try {
      await storeEvents(1, 20)
      const firehose = makeFirehose(20)
      const gone = new StandInSocket({ buffered: 0, growsBy: 2_000 })
      sockets.push(gone)
      await firehose.subscribe(gone as unknown as Connection<SubscriberState>, '0')
      await new Promise((r) => setTimeout(r, 100))
      expect(gone.seqs()).toEqual([1])
      expect(gone.closed).toEqual({ code: 1008, reason: 'replay stalled' })
      expect(firehose.replaying).toBe(0)
    } finally {
      stallMs = 60_000
    }
  })
})

describe('replay and hand-over', () => {
  it('hands a replaying subscriber over to live with no gap and no duplicate while events keep coming', async () => {
    await storeEvents(1, 1200)
    const { d1, gates } = gatedD1()
    const firehose = makeFirehose(1200, d1)
    const sub = new StandInSocket()
    sockets.push(sub)
    await firehose.subscribe(sub as unknown as Connection<SubscriberState>, '0')
    // Page 1 of 3 is in flight; two events commit (D1 first, then broadcast) before it returns.
    await storeEvents(1201, 1202)
    firehose.broadcast([event(1201), event(1202)])
    gates.shift()!.open()
    await settle()
    gates.shift()!.open() // page 2
    await settle()
    // Page 3 will see 1201-1202, and 1203 lands in D1 before the broadcast arrives.
    await storeEvents(1203, 1203)
    gates.shift()!.open()
    await settle()
    expect(sub.state).toEqual({ live: true })
    firehose.broadcast([event(1203)]) // already sent from D1: not again
    firehose.broadcast([event(1204)])
    expect(sub.seqs()).toEqual(Array.from({ length: 1204 }, (_, i) => i + 1))
  })

  it('keeps a prune out of a replay in progress, and a replay out of a prune in progress', async () => {
    await storeEvents(1, 10, 0)
    const { d1, gates } = gatedD1()
    const firehose = makeFirehose(10, d1)
    const sub = new StandInSocket()
    sockets.push(sub)

    await firehose.subscribe(sub as unknown as Connection<SubscriberState>, '0')
    expect(firehose.replaying).toBe(1)
    expect(await firehose.prune()).toBe(0) // skipped: a replay is reading
    expect(gates.map((g) => g.sql)).toEqual([expect.stringContaining('SELECT seq, hex(frame)')])
    gates.shift()!.open()
    await settle()
    expect(firehose.replaying).toBe(0)
    expect(sub.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

    // Now a prune starts; a replay that arrives meanwhile waits for it to finish before reading.
    const pruned = firehose.prune()
    const late = new StandInSocket()
    sockets.push(late)
    await firehose.subscribe(late as unknown as Connection<SubscriberState>, '0')
    await settle()
    expect(gates.map((g) => g.sql)).toEqual([expect.stringContaining('DELETE')])
    gates.shift()!.open()
    expect(await pruned).toBe(9) // all but the newest
    await settle()
    gates.shift()!.open()
    await settle()
    expect(late.frames()[0]!.body.name).toBe('OutdatedCursor')
    expect(late.seqs()).toEqual([10])
  })
})
