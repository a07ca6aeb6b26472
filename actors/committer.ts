import { BlockMap, Repo, WriteOpAction, type RecordWriteOp } from '@atproto/repo'
import { cborToLexRecord, cidForRecord } from '@atproto/repo'
import type { Cid } from '@atproto/lex-data'
import type { Secp256k1Keypair } from '@atproto/crypto'
import { findBlobs } from '../src/db/blobs'
import { getDb } from '../src/db/client'
import { commitStatements, type CommitRows } from '../src/db/commitWrites'
import { eventsAfter, eventStatements } from '../src/db/events'
import { getHeadState } from '../src/db/repoRoot'
import { encodeMessageFrame } from '../src/firehose/frames'
import { BlockCache, D1Blockstore } from '../src/repo/blockstore'
import { carBytes } from '../src/repo/car'
import { formatCommit } from '../src/repo/formatCommit'
import { MAX_WRITES_PER_COMMIT, type BlobUse } from '../src/repo/prepareWrites'
import '../src/repo/mstSerializeMemo'
import { storedCid } from '../src/lib/cid'
import { costFields, newCost, withCost, type Cost } from '../src/lib/cost'
import { log } from '../src/lib/log'
import { Refusal, type ApplyWritesOutcome, type ApplyWritesRequest, type CommittedEvent, type EventJob, type Head, type WriteResult } from './commitTypes'
import { loadHead } from './loadHead'

/** Writes queued while a batch is in flight are committed together, up to this many… */
const MAX_GROUP = 64
/** …and about this many bytes of blocks and frames. */
const MAX_GROUP_BYTES = 4 * 1024 * 1024
/**
 * Writes whose commits build on the tree as the last commit left it before it
 * is loaded afresh from blocks. A kept tree holds every node its commits walked
 * (and their remembered encodings): writes spread over a large repo would
 * otherwise end up holding all of it. A thousand paths stay within a few MB;
 * sequential posts, which walk one path, reload every thousand commits.
 */
const TREE_KEPT_WRITES = 1000
/** Requests share a commit until its records reach about this size (firehose frames stay small). */
const MAX_COMMIT_RECORD_BYTES = 512 * 1024

interface Queued {
  request: ApplyWritesRequest
  resolve(outcome: ApplyWritesOutcome): void
  reject(err: unknown): void
}

/** D1 refused the batch and does not have it: safe to retry. */
export class BatchNotApplied extends Error {
  name = 'BatchNotApplied'
  constructor() {
    super('commit failed; nothing was written')
  }
}

type Settled = { outcome: ApplyWritesOutcome } | { error: unknown }

/**
 * The single writer of one repo. Requests are taken in arrival order; those
 * that queue up while D1 is busy share signed commits (one MST update, one
 * signature, one rev and firehose event for all their writes, as long as no
 * two touch the same record) and are persisted in ONE D1 batch: group
 * commit. Every response names the commit that holds its writes. The head
 * held in memory is only ever what D1 acknowledged; any failure drops it so
 * the next write reloads from D1.
 *
 * Pipelined: while one group's batch is in flight, the next group is built and
 * signed on top of it, but its batch is sent only once D1 has acknowledged the
 * previous one, and nothing of it (outcome, event) is released before its own
 * batch is acknowledged. If the batch below it fails, the group was built on a
 * head D1 never took: it is thrown away and its requests are built again.
 */
export class Committer {
  #queue: (Queued | EventJob)[] = []
  #draining = false
  #head: Head | null = null
  readonly #cache = new BlockCache()
  /** Called when the queue gains work while the drain loop waits on a batch. */
  #wake: (() => void) | null = null

  constructor(
    private readonly d1: D1Database,
    private readonly did: string,
    private readonly handle: string,
    private readonly keypair: () => Promise<Secp256k1Keypair>,
    private readonly onCommitted: (events: CommittedEvent[]) => void,
    /** Asked only when the repo is first created: whether relays may hear of it yet. */
    private readonly hostedHere?: () => Promise<boolean>,
    /** Writes before the kept tree is loaded afresh (TREE_KEPT_WRITES; tests lower it). */
    private readonly treeKeptWrites = TREE_KEPT_WRITES,
  ) {}

  /**
   * The committed head, loaded from D1 when not held (first use, or after a
   * failure). Concurrent callers share one load, so a brand-new repo is
   * created once.
   */
  async head(): Promise<Head> {
    if (this.#head) return this.#head
    this.#loading ??= this.#load().finally(() => (this.#loading = null))
    return this.#loading
  }

  #lastBatch: { commits: number; requests: number; at: number } | null = null

  /** What an operator sees (npm run inspect): only what is in memory, nothing is loaded for it. */
  stats() {
    const head = this.#head && { cid: this.#head.cid, rev: this.#head.rev, seq: this.#head.seq, active: this.#head.active }
    return { head, queueDepth: this.#queue.length, draining: this.#draining, lastBatch: this.#lastBatch, blockCache: this.#cache.size }
  }

  #loading: Promise<Head> | null = null
  /** The repo at the last acknowledged commit, kept for the next group (see #openGroup). */
  #lastRepo: Repo | null = null
  /** Writes committed on the tree as the last commit left it, since it was loaded (see #seal). */
  #treeWrites = 0
  /** Highest seq handed to onCommitted by this instance. */
  #broadcastUpTo: number | null = null

  async #load(): Promise<Head> {
    const head = await loadHead(this.d1, this.did, this.handle, this.#cache, await this.keypair(), (events) => this.#emit(events), this.hostedHere)
    // A batch whose outcome was unknown (it threw, yet D1 had applied it) left events
    // no subscriber got: send them now, so the live stream has no gap.
    if (this.#broadcastUpTo !== null && head.seq > this.#broadcastUpTo) {
      this.#emit(await eventsAfter(this.d1, this.#broadcastUpTo, head.seq - this.#broadcastUpTo))
    }
    this.#broadcastUpTo ??= head.seq
    this.#head = head
    return head
  }

  #emit(events: CommittedEvent[]): void {
    if (events.length === 0) return
    this.#broadcastUpTo = events.at(-1)!.seq
    this.onCommitted(events)
  }

  apply(request: ApplyWritesRequest): Promise<ApplyWritesOutcome> {
    return new Promise((resolve, reject) => this.#enqueue({ request, resolve, reject }))
  }

  /** Appends an account-level event; resolves with its seq once D1 has it. */
  emitEvent(build: EventJob['build']): Promise<number> {
    return new Promise((resolve, reject) => this.#enqueue({ build, resolve, reject }))
  }

  #enqueue(job: Queued | EventJob): void {
    this.#queue.push(job)
    this.#wake?.()
    if (!this.#draining) void this.#drain()
  }

  async #drain(): Promise<void> {
    this.#draining = true
    /** The batch in flight: resolves true once D1 acknowledged it, false if it failed. */
    let inflight: { done: Promise<boolean>; head: Head; blocks: BlockMap; repo: Repo | null } | null = null
    try {
      while (this.#queue.length > 0 || inflight) {
        const first = this.#queue[0]
        if (!first) {
          // Nothing queued: wait for the batch in flight, or for writes to build on top of it.
          if (await this.#settledOrWoken(inflight!.done)) inflight = null
          continue
        }
        if ('build' in first) {
          // Account events are not pipelined: they build on the committed head.
          if (inflight) {
            await inflight.done
            inflight = null
            continue
          }
          this.#queue.shift()
          await this.#commitEvent(first)
          continue
        }
        let group: Group
        try {
          const cost = newCost()
          group = await withCost(cost, () => this.#openGroup(inflight, cost))
        } catch (err) {
          // No head or no key: every queued write fails alike (after the batch below settles).
          if (inflight) await inflight.done
          inflight = null
          for (const q of this.#takeWrites(this.#queue.length)) q.reject(err)
          continue
        }
        // Build what is queued; while the batch below is in flight, keep taking what arrives.
        for (;;) {
          await withCost(group.cost, () => this.#build(group, this.#takeWrites(MAX_GROUP - group.requests.length)))
          if (!inflight || group.requests.length >= MAX_GROUP || group.bytes > MAX_GROUP_BYTES) break
          if (this.#queue.length > 0 && 'request' in this.#queue[0]!) continue
          if (await this.#settledOrWoken(inflight.done)) break
        }
        await withCost(group.cost, () => this.#seal(group))
        if (inflight) {
          const acknowledged = await inflight.done
          inflight = null
          if (!acknowledged) {
            // Built on a head D1 refused: nothing of it was sent; build it again from D1's.
            this.#queue.unshift(...group.requests)
            continue
          }
        }
        inflight = group.commits.length > 0 ? { done: this.#send(group), head: group.next, blocks: group.storage.pending, repo: group.repo } : null
        if (!inflight) this.#settle(group)
      }
    } finally {
      this.#draining = false
    }
  }

  /** Takes up to `max` writes from the head of the queue (stopping at an account event). */
  #takeWrites(max: number): Queued[] {
    let n = 0
    while (n < this.#queue.length && n < max && 'request' in this.#queue[n]!) n++
    return this.#queue.splice(0, n) as Queued[]
  }

  /** Waits until `done` settles (true) or new work is queued (false). */
  async #settledOrWoken(done: Promise<boolean>): Promise<boolean> {
    let woken!: () => void
    const wake = new Promise<false>((resolve) => (woken = () => resolve(false)))
    this.#wake = woken
    try {
      return await Promise.race([done.then(() => true as const), wake])
    } finally {
      this.#wake = null
    }
  }

  /**
   * A group builds on the committed head, or on the group in flight: its blocks
   * are not in D1 yet, so they are read from memory. Only its own: every group
   * below it was acknowledged before it was sent, and its blocks are in the cache.
   */
  async #openGroup(below: { head: Head; blocks: BlockMap; repo: Repo | null } | null, cost: Cost): Promise<Group> {
    const head = below ? below.head : await this.head()
    const keypair = await this.keypair()
    const storage = new D1Blockstore(this.d1, this.did, this.#cache, below?.blocks)
    // The tree of the last commit built, when this group starts from it: its nodes stay decoded
    // and their encodings remembered. Immutable and content-addressed, so any store that holds
    // its blocks serves it.
    const last = below ? below.repo : this.#lastRepo
    const repo = last && last.cid.toString() === head.cid ? last : null
    return { next: head, keypair, storage, repo, open: null, requests: [], settled: [], commits: [], events: [], bytes: 0, cost, started: Date.now() }
  }

  /**
   * Checks each request against the group's last commit and adds its writes
   * to the commit being assembled, so requests that queue up together share
   * one commit: one MST update, one signature, one firehose event. A request
   * that cannot share it (a swapCommit, a record already written in it, or
   * no room) seals it first and starts the next. A refused request changes
   * nothing and does not hold up the rest.
   */
  async #build(group: Group, requests: Queued[]): Promise<void> {
    if (requests.length === 0) return
    // One query for every blob these writes reference, not one per commit.
    const blobs = await this.#findBlobs(requests)
    for (const [i, q] of requests.entries()) {
      // Keep one batch a reasonable size: past the budget, the rest waits for the next group.
      if (group.bytes + (group.open?.bytes ?? 0) > MAX_GROUP_BYTES) {
        this.#queue.unshift(...requests.slice(i))
        return
      }
      const index = group.requests.push(q) - 1
      group.settled.push({ error: new Error('not built') })
      try {
        if (q.request.swapCommit !== undefined || !fits(group.open, q.request)) await this.#seal(group)
        group.repo ??= await Repo.load(group.storage, storedCid(group.next.cid))
        const checked = await this.#check(group.repo, group.next, q.request, blobs)
        const open = (group.open ??= { ops: [], paths: new Set(), firehoseOps: [], upserts: [], deletes: [], replaced: [], blobRefs: [], bytes: 0, members: [] })
        open.ops.push(...checked.ops)
        open.firehoseOps.push(...checked.firehoseOps)
        open.upserts.push(...checked.upserts)
        open.deletes.push(...checked.deletes)
        open.replaced.push(...checked.replaced)
        open.blobRefs.push(...checked.blobRefs)
        for (const w of q.request.writes) {
          open.paths.add(`${w.collection}/${w.rkey}`)
          open.bytes += w.record?.byteLength ?? 0
        }
        open.members.push({ index, results: checked.results })
      } catch (err) {
        group.settled[index] = err instanceof Refusal ? { outcome: { ok: false, status: err.status, error: err.error, message: err.message } } : { error: err }
      }
    }
  }

  /** Seals the commit being assembled: signs it on top of the group's last and settles its requests' outcomes. */
  async #seal(group: Group): Promise<void> {
    const open = group.open
    if (!open) return
    group.open = null
    try {
      if (open.ops.length > 0) {
        const { commit, next, rows } = await this.#formatCommit(group.repo!, group.next, open, group.keypair)
        group.storage.pending.addMap(commit.newBlocks)
        // Now and then start again from a lazily loaded tree (see TREE_KEPT_WRITES).
        this.#treeWrites += open.ops.length
        const repo = this.#treeWrites < this.treeKeptWrites ? next : await Repo.load(group.storage, commit.cid)
        if (repo !== next) this.#treeWrites = 0
        group.commits.push(rows)
        group.bytes += rows.blocks.reduce((n, [, b]) => n + b.byteLength, rows.event.frame.byteLength)
        group.events.push({ seq: rows.event.seq, frame: rows.event.frame })
        group.next = { ...group.next, cid: commit.cid.toString(), rev: commit.rev, dataCid: rows.dataCid, seq: rows.event.seq }
        group.repo = repo
      }
      // Requests whose writes changed nothing report the head they were checked against.
      for (const m of open.members) group.settled[m.index] = { outcome: { ok: true, commit: { cid: group.next.cid, rev: group.next.rev }, results: m.results } }
    } catch (err) {
      for (const m of open.members) group.settled[m.index] = { error: err }
    }
  }

  /**
   * Persists a built group in one batch; true once D1 has it. Outcomes and
   * events go out only then. False if D1 refused it (its writes fail and may be
   * retried) or cannot say (their outcome is reported unknown): either way the
   * head is dropped, and a group built on this one is rebuilt from D1's.
   */
  async #send(group: Group): Promise<boolean> {
    let written: 'applied' | 'unknown'
    try {
      written = await withCost(group.cost, () => this.#runBatch(commitStatements(this.d1, group.commits), group.next.seq))
    } catch (err) {
      for (const q of group.requests) q.reject(err)
      return false
    }
    if (written === 'unknown') {
      // Not "nothing was written": a client that retried could commit the same writes twice.
      const unknown: ApplyWritesOutcome = { ok: false, status: 500, error: 'CommitOutcomeUnknown', message: 'The commit may or may not have been written; read the repo before retrying' }
      group.requests.forEach((q, i) => {
        const s = group.settled[i]!
        if ('error' in s) q.reject(s.error)
        else q.resolve(s.outcome.ok ? unknown : s.outcome) // refusals changed nothing either way
      })
      return false
    }
    for (const rows of group.commits) for (const [cid, bytes] of rows.blocks) this.#cache.set(cid, bytes)
    this.#head = group.next
    this.#lastRepo = group.repo
    this.#lastBatch = { commits: group.events.length, requests: group.requests.length, at: Date.now() }
    this.#settle(group)
    return true
  }

  #settle(group: Group): void {
    const cost = { ...group.cost, requests: group.requests.length }
    group.requests.forEach((q, i) => {
      const s = group.settled[i]!
      if ('outcome' in s) q.resolve(s.outcome.ok ? { ...s.outcome, cost } : s.outcome)
      else q.reject(s.error)
    })
    if (group.events.length > 0) {
      log('info', 'commit', {
        did: this.did,
        commits: group.events.length,
        requests: group.requests.length,
        firstSeq: group.events[0]!.seq,
        lastSeq: group.events.at(-1)!.seq,
        rev: group.next.rev,
        ms: Date.now() - group.started,
        ...costFields(group.cost),
      })
      this.#emit(group.events)
    }
  }

  async #commitEvent(job: EventJob): Promise<void> {
    try {
      const head = await this.head()
      const { statements, events, active, moves } = await job.build(head.seq + 1, head)
      const last = events.at(-1)?.seq ?? head.seq
      // Nothing to change (e.g. activating an active account): no batch, no events.
      if (events.length === 0 && statements.length > 0) {
        // No seq to tell whether a failed batch landed (an unannounced import): D1 is read again next time.
        await this.d1.batch(statements).catch((err: unknown) => {
          this.#head = null
          throw err
        })
      } else if (statements.length + events.length > 0) {
        if ((await this.#runBatch([...statements, ...eventStatements(this.d1, this.did, events)], last)) === 'unknown') {
          throw new Error('account event outcome unknown: D1 could not be read after the batch failed')
        }
      }
      this.#head = { ...head, ...moves, seq: last, active: active ?? head.active }
      job.resolve(last)
      this.#emit(events.map((e) => ({ seq: e.seq, frame: e.frame })))
    } catch (err) {
      job.reject(err)
    }
  }

  /**
   * Runs one batch. A batch that throws may still have been applied (the
   * answer was lost after D1 committed it), so D1 is asked before anyone is
   * told anything: the highest seq in the log says, because only this actor
   * appends to it and the batch holds events up to `lastSeq`. Throws
   * BatchNotApplied when D1 does not have it; 'unknown' when D1 cannot be read.
   */
  async #runBatch(statements: D1PreparedStatement[], lastSeq: number): Promise<'applied' | 'unknown'> {
    try {
      await this.d1.batch(statements)
      return 'applied'
    } catch (err) {
      // Whatever happened, what we hold may no longer be what D1 has.
      this.#head = null
      const error = err instanceof Error ? err.message : String(err)
      let seq: number
      try {
        seq = (await getHeadState(this.d1, this.did)).seq
      } catch (reloadErr) {
        log('error', 'batch failed and D1 could not be read: outcome unknown', { did: this.did, lastSeq, error, reloadError: String(reloadErr) })
        return 'unknown'
      }
      if (seq >= lastSeq) {
        log('warn', 'batch reported a failure but D1 has it', { did: this.did, lastSeq, error })
        return 'applied'
      }
      log('error', 'batch failed; nothing was written', { did: this.did, lastSeq, error })
      throw new BatchNotApplied()
    }
  }

  /** The uploaded blobs the requests' records reference (size and type), in one query. */
  async #findBlobs(requests: Queued[]): Promise<Map<string, { mimeType: string; size: number }>> {
    const cids = requests.flatMap((q) => q.request.writes.flatMap((w) => w.blobs.map((b) => b.cid)))
    if (cids.length === 0) return new Map()
    return findBlobs(getDb(this.d1), this.did, cids)
  }

  /** A request's writes checked against `repo` (the group's last commit): what they change, or a Refusal. */
  async #check(repo: Repo, head: Head, request: ApplyWritesRequest, blobs: Map<string, { mimeType: string; size: number }>) {
    if (!head.active) throw new Refusal('AccountDeactivated', 'Account is deactivated', 401)
    if (request.swapCommit !== undefined && request.swapCommit !== head.cid) {
      throw new Refusal('InvalidSwap', `Commit was at ${head.cid}`)
    }
    const ops: RecordWriteOp[] = []
    const results: WriteResult[] = []
    const firehoseOps: { action: string; path: string; cid: Cid | null; prev?: Cid }[] = []
    const upserts: CommitRows['upserts'] = []
    const deletes: string[] = []
    const replaced: string[] = []
    const blobRefs: CommitRows['blobRefs'] = []
    const blobUses: BlobUse[] = []
    const seen = new Set<string>()

    for (const w of request.writes) {
      const path = `${w.collection}/${w.rkey}`
      const uri = `at://${this.did}/${path}`
      if (seen.has(path)) throw new Refusal('InvalidRequest', `More than one write to ${uri} in one commit`)
      seen.add(path)
      const current = await repo.data.get(path)
      if (w.swapRecord !== undefined) {
        const matches = w.swapRecord === null ? current === null : current !== null && current.toString() === w.swapRecord
        if (!matches) throw new Refusal('InvalidSwap', `Record was at ${current?.toString() ?? 'null'}`)
      }
      if (w.action === 'delete') {
        if (!current) {
          if (w.upsert) continue // deleteRecord of a missing record is a no-op, as the reference PDS
          throw new Refusal('InvalidRequest', `Could not find record: ${uri}`)
        }
        ops.push({ action: WriteOpAction.Delete, collection: w.collection as never, rkey: w.rkey as never })
        firehoseOps.push({ action: 'delete', path, cid: null, prev: current })
        deletes.push(uri)
        results.push({ action: 'delete', uri })
        continue
      }
      const record = cborToLexRecord(w.record!)
      const cid = await cidForRecord(record)
      let action: 'create' | 'update' = w.action
      if (w.action === 'create' && current) throw new Refusal('InvalidRequest', `Record already exists: ${uri}`)
      if (w.action === 'update' && !current) {
        if (!w.upsert) throw new Refusal('InvalidRequest', `Could not find record: ${uri}`)
        action = 'create'
      }
      results.push({ action, uri, cid: cid.toString(), validationStatus: w.validationStatus })
      if (current && current.equals(cid)) continue // identical content: nothing to commit for this write
      ops.push({ action: action === 'create' ? WriteOpAction.Create : WriteOpAction.Update, collection: w.collection as never, rkey: w.rkey as never, record })
      firehoseOps.push(action === 'create' ? { action, path, cid } : { action, path, cid, prev: current! })
      upserts.push({ uri, collection: w.collection, rkey: w.rkey, cid: cid.toString() })
      if (current) replaced.push(uri)
      for (const b of w.blobs) {
        blobRefs.push({ uri, blobCid: b.cid })
        blobUses.push(b)
      }
    }
    checkBlobs(blobUses, blobs)
    return { ops, firehoseOps, upserts, deletes, replaced, blobRefs, results }
  }

  /** The signed commit of the checked writes on top of `repo`, with its rows and firehose frame. */
  async #formatCommit(repo: Repo, head: Head, open: OpenCommit, keypair: Secp256k1Keypair) {
    const { ops, firehoseOps, upserts, deletes, replaced, blobRefs } = open
    const { commit, next } = await formatCommit(repo, ops, keypair)
    const dataCid = next.commit.data.toString()
    const seq = head.seq + 1
    const time = new Date().toISOString()
    const frame = encodeMessageFrame('#commit', {
      seq,
      rebase: false,
      tooBig: false,
      repo: this.did,
      commit: commit.cid,
      rev: commit.rev,
      since: head.rev,
      blocks: carBytes(commit.cid, [...commit.relevantBlocks].map(([cid, bytes]) => ({ cid, bytes }))),
      ops: firehoseOps,
      blobs: [],
      prevData: storedCid(head.dataCid),
      time,
    })
    const rows: CommitRows = {
      did: this.did,
      cid: commit.cid.toString(),
      rev: commit.rev,
      dataCid,
      blocks: [...commit.newBlocks].map(([cid, bytes]) => [cid.toString(), bytes]),
      removedCids: commit.removedCids.toList().map((c) => c.toString()),
      upserts,
      deletes,
      replaced,
      blobRefs,
      event: { seq, type: 'commit', frame, time: Date.now() },
    }
    return { commit, next, rows }
  }
}

/** Whether a request's writes can join the commit being assembled. */
function fits(open: OpenCommit | null, request: ApplyWritesRequest): boolean {
  if (!open) return true
  if (open.ops.length + request.writes.length > MAX_WRITES_PER_COMMIT) return false
  if (open.bytes > MAX_COMMIT_RECORD_BYTES) return false
  // One op per record in a commit: a second write to it goes in the next commit.
  return request.writes.every((w) => !open.paths.has(`${w.collection}/${w.rkey}`))
}

/** Every referenced blob must have been uploaded, with the size and type the record claims. */
function checkBlobs(uses: BlobUse[], found: Map<string, { mimeType: string; size: number }>): void {
  for (const use of uses) {
    const blob = found.get(use.cid)
    if (!blob) throw new Refusal('BlobNotFound', `Could not find blob: ${use.cid}`)
    if (blob.size !== use.size) throw new Refusal('InvalidRequest', `Blob ${use.cid} is ${blob.size} bytes, the record says ${use.size}`)
    if (blob.mimeType !== use.mimeType) throw new Refusal('InvalidRequest', `Blob ${use.cid} is ${blob.mimeType}, the record says ${use.mimeType}`)
  }
}

/** Checked writes of one or more requests, to be signed as one commit. */
interface OpenCommit {
  ops: RecordWriteOp[]
  paths: Set<string>
  firehoseOps: { action: string; path: string; cid: Cid | null; prev?: Cid }[]
  upserts: CommitRows['upserts']
  deletes: string[]
  replaced: string[]
  blobRefs: CommitRows['blobRefs']
  /** Record bytes so far. */
  bytes: number
  /** The requests whose writes it holds: their place in the group and their results. */
  members: { index: number; results: WriteResult[] }[]
}

/** A group of commits being built, then in flight as one batch. */
interface Group {
  /** Its last commit so far (at first, the head it builds on). */
  next: Head
  keypair: Secp256k1Keypair
  /** Its own new blocks are `storage.pending` until D1 has them (a group built on top reads them there too). */
  storage: D1Blockstore
  repo: Repo | null
  /** The commit being assembled from checked requests, not yet signed. */
  open: OpenCommit | null
  requests: Queued[]
  settled: Settled[]
  commits: CommitRows[]
  events: CommittedEvent[]
  bytes: number
  cost: Cost
  started: number
}
