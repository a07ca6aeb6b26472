import type { Connection } from 'partyserver'
import { encodeErrorFrame, encodeMessageFrame } from '../src/firehose/frames'
import { log } from '../src/lib/log'
import { eventsAfter, pruneEvents } from '../src/db/events'
import type { CommittedEvent, Head } from './commitTypes'

/**
 * Kept in the socket attachment, so it survives hibernation and restarts:
 * a replay cut short by an eviction resumes from `cursor` (the last seq it
 * sent) instead of leaving the socket waiting forever.
 */
export interface SubscriberState {
  live: boolean
  cursor?: number
}

const PAGE_SIZE = 500
/** Past this much unsent data a live subscriber is dropped with ConsumerTooSlow. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024

export interface FirehoseLimits {
  /** Unsent bytes past which a live subscriber is dropped (ConsumerTooSlow). */
  maxBuffered: number
  /** A replay pauses while its socket holds more unsent bytes than this, and resumes when it has drained below. */
  replayHighWater: number
  /** How often a paused replay looks at its socket again. */
  drainPollMs: number
  /** A replay whose socket has not drained for this long is closed; the consumer reconnects with its cursor. */
  replayStallMs: number
}

const DEFAULT_LIMITS: FirehoseLimits = {
  maxBuffered: MAX_BUFFERED_BYTES,
  replayHighWater: 1024 * 1024,
  drainPollMs: 10,
  replayStallMs: 5 * 60 * 1000,
}

/**
 * com.atproto.sync.subscribeRepos over the actor's hibernatable sockets.
 * Replays come from D1 page by page, paced by the socket: a replay sends
 * while the socket has drained below `replayHighWater` and waits otherwise,
 * so the actor holds at most one page per replayer whatever the consumer
 * does, a fast consumer is never cut off, and live fan-out (synchronous, in
 * broadcast) never waits for a replayer. A replaying socket turns live only when
 * it has read everything up to the last broadcast seq, checked and flipped
 * with no await in between, so no event is missed; per-socket `#lastSent`
 * keeps anything from being sent twice.
 */
export class Firehose {
  /** Highest seq already broadcast (or known committed). */
  #lastSeq = 0
  /**
   * The last seq each socket was sent by this instance. Broadcasts can queue
   * behind a replay's hand-over (fan-out runs after the writer's reply), so
   * every send is checked against it: nothing goes out twice.
   */
  #lastSent = new Map<string, number>()
  /** Sockets this instance is replaying to. */
  #replaying = new Set<string>()
  /**
   * The live sockets this instance made live, so a broadcast walks them alone.
   * Listing every socket through partyserver deserializes each one's
   * attachment per event (a third of the fan-out's cost at 1,000 subscribers).
   * A new instance (after hibernation or eviction) knows none of them: its
   * first broadcast walks every socket once, taking in the live ones and
   * restarting replays cut short. Within an instance a socket that is not live
   * is replaying, or it was closed.
   */
  #live = new Map<string, Connection<SubscriberState>>()
  #scanned = false
  /** A prune in flight: a replay starting now waits for it, so it never reads across a half-done delete. */
  #pruning: Promise<number> | null = null

  constructor(
    private readonly d1: D1Database,
    private readonly connections: () => Iterable<Connection<SubscriberState>>,
    private readonly head: () => Promise<Head>,
    private readonly retentionMs: number,
    limits: Partial<FirehoseLimits> = {},
  ) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits }
  }

  readonly #limits: FirehoseLimits

  async subscribe(conn: Connection<SubscriberState>, cursorParam: string | null): Promise<void> {
    const head = await this.head()
    this.#lastSeq = Math.max(this.#lastSeq, head.seq)
    if (cursorParam === null) {
      conn.setState({ live: true })
      this.#goneLive(conn, this.#lastSeq)
      return
    }
    if (!/^\d+$/.test(cursorParam)) return this.#fail(conn, 'InvalidRequest', 'cursor must be a non-negative integer')
    const cursor = Number(cursorParam)
    if (cursor > this.#lastSeq) return this.#fail(conn, 'FutureCursor', 'Cursor in the future.')
    conn.setState({ live: false, cursor })
    this.#startReplay(conn, cursor)
  }

  #startReplay(conn: Connection<SubscriberState>, from: number): void {
    this.#replaying.add(conn.id)
    void this.#replay(conn, from)
      .catch((err) => {
        log('error', 'firehose replay failed', { connection: conn.id, error: err instanceof Error ? err.message : String(err) })
        this.#fail(conn, 'InternalServerError', 'replay failed')
      })
      .finally(() => this.#replaying.delete(conn.id))
  }

  async #replay(conn: Connection<SubscriberState>, from: number): Promise<void> {
    if (this.#pruning) await this.#pruning.catch(() => 0)
    let cursor = from
    let first = true
    for (;;) {
      const results = await eventsAfter(this.d1, cursor, PAGE_SIZE)
      // Seqs are contiguous (one per committed event), so a first row past cursor+1
      // means the events in between were pruned: the cursor is older than the log.
      if (first && results.length > 0 && results[0]!.seq > from + 1) {
        conn.send(encodeMessageFrame('#info', { name: 'OutdatedCursor', message: 'Requested cursor exceeded limit. Possibly missing events' }))
      }
      first = false
      for (const row of results) {
        if (buffered(conn) > this.#limits.replayHighWater) {
          conn.setState({ live: false, cursor })
          if (!(await this.#drained(conn))) return
        }
        if (conn.readyState !== WebSocket.OPEN) return
        conn.send(row.frame)
        cursor = row.seq
      }
      if (results.length === PAGE_SIZE) {
        conn.setState({ live: false, cursor })
        continue
      }
      // Everything broadcast so far is in D1; if we have it all, go live now (no await before the flip).
      if (cursor >= this.#lastSeq) {
        this.#goneLive(conn, cursor)
        conn.setState({ live: true })
        return
      }
    }
  }

  #goneLive(conn: Connection<SubscriberState>, lastSent: number): void {
    this.#lastSent.set(conn.id, lastSent)
    this.#live.set(conn.id, conn)
  }

  broadcast(events: CommittedEvent[]): void {
    if (events.length === 0) return
    this.#lastSeq = Math.max(this.#lastSeq, events.at(-1)!.seq)
    if (!this.#scanned) {
      this.#scanned = true
      for (const conn of this.connections()) {
        if (conn.readyState !== WebSocket.OPEN || this.#live.has(conn.id)) continue
        const state = conn.state
        if (state?.live) this.#live.set(conn.id, conn)
        // A replay that an eviction cut short: pick it up where it stopped.
        else if (!this.#replaying.has(conn.id) && state?.cursor !== undefined) this.#startReplay(conn, state.cursor)
      }
    }
    const last = events.at(-1)!.seq
    for (const [id, conn] of this.#live) {
      if (conn.readyState !== WebSocket.OPEN) {
        this.forget(conn)
        continue
      }
      const lastSent = this.#lastSent.get(id) ?? 0
      for (const event of events) {
        if (event.seq <= lastSent) continue
        conn.send(event.frame)
      }
      this.#lastSent.set(id, Math.max(lastSent, last))
      this.#tooSlow(conn)
    }
  }

  forget(conn: Connection<SubscriberState>): void {
    this.#lastSent.delete(conn.id)
    this.#live.delete(conn.id)
  }

  /**
   * Deletes events past retention; never during a replay (it would open a gap
   * in the middle of one), and never the newest event (its seq is where the
   * sequence resumes after a restart: loadHead reads MAX(seq)).
   */
  async prune(now = Date.now()): Promise<number> {
    if (this.#replaying.size > 0 || this.#pruning) return 0
    this.#pruning = pruneEvents(this.d1, now - this.retentionMs)
    try {
      const deleted = await this.#pruning
      if (deleted > 0) log('info', 'firehose events pruned', { deleted })
      return deleted
    } finally {
      this.#pruning = null
    }
  }

  /** The last seq this instance sent each socket (npm run inspect). */
  lastSentTo(connectionId: string): number | undefined {
    return this.#lastSent.get(connectionId)
  }

  get replaying(): number {
    return this.#replaying.size
  }

  /**
   * Waits until the socket has drained below the high-water mark. False when
   * it closed meanwhile, or stalled past `replayStallMs` (then it is closed:
   * a consumer that stopped reading must not hold the prune off forever).
   */
  async #drained(conn: Connection<SubscriberState>): Promise<boolean> {
    const { replayHighWater, drainPollMs, replayStallMs } = this.#limits
    const since = Date.now()
    while (buffered(conn) > replayHighWater) {
      if (conn.readyState !== WebSocket.OPEN) return false
      if (Date.now() - since > replayStallMs) {
        log('warn', 'firehose replay stalled', { connection: conn.id, buffered: buffered(conn) })
        try {
          conn.close(1008, 'replay stalled')
        } catch {
          // Already closed.
        }
        this.forget(conn)
        return false
      }
      await new Promise((r) => setTimeout(r, drainPollMs))
    }
    return conn.readyState === WebSocket.OPEN
  }

  /** A live subscriber whose unsent data passed the bound has stopped reading: ConsumerTooSlow. */
  #tooSlow(conn: Connection<SubscriberState>): boolean {
    if (buffered(conn) <= this.#limits.maxBuffered) return false
    log('warn', 'firehose consumer too slow', { connection: conn.id, buffered: buffered(conn) })
    this.#fail(conn, 'ConsumerTooSlow', 'Stream consumer too slow')
    return true
  }

  #fail(conn: Connection<SubscriberState>, error: string, message: string): void {
    try {
      conn.send(encodeErrorFrame(error, message))
      conn.close(1008, error)
    } catch {
      // Already closed.
    }
    this.forget(conn)
  }
}

/** Unsent bytes on the socket (workerd reports them; a runtime that does not reads as 0). */
function buffered(conn: Connection<SubscriberState>): number {
  const amount: unknown = conn.bufferedAmount
  return typeof amount === 'number' ? amount : 0
}
