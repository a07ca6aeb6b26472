import { Server, type Connection, type ConnectionContext } from 'partyserver'
import { pruneRemovedBlocks } from '../src/db/blocks'
import { readConfig, type Env } from '../src/env'
import { decodeFrame, frameType } from '../src/firehose/frames'
import { getDb } from '../src/db/client'
import { crawlRelays } from '../src/relays/crawl'
import { checkHostedHere } from '../src/identity/hostedHere'
import { getSigningKey } from '../src/identity/signingKey'
import { meterD1 } from '../src/db/metered'
import { errorFields, log, recentProblems, type ProblemLine } from '../src/lib/log'
import { SNAPSHOT_LIFETIME_MS } from '../src/repo/snapshot'
import { handleChange, identityRefresh, statusChange } from './accountEvents'
import { Refusal, type ApplyWritesOutcome, type ApplyWritesRequest, type CommittedEvent } from './commitTypes'
import { Committer } from './committer'
import { repoImport, type ImportRequest } from './importRepo'
import { Firehose, type SubscriberState } from './firehose'

const PRUNE_INTERVAL_MS = 60 * 60 * 1000
const IMPORT_LEASE = 'import-lease'
/**
 * An import renews its lease as it goes (every 15 s); one whose Worker died
 * (a client that went away) frees it this long after. Also longer than the
 * switch's one D1 batch may take (30 s), which runs on a renewed lease.
 */
const IMPORT_LEASE_MS = 60 * 1000

export interface ActorState {
  /** Null until the actor has loaded its head since it last started. */
  committer: ReturnType<Committer['stats']> | null
  subscribers: { id: string; live: boolean; cursor: number | null; lastSent: number | null }[]
  replaying: number
  nextAlarm: number | null
  retentionHours: number
  recentErrors: ProblemLine[]
}

/**
 * The single writer of one account's repo (one instance per account DID,
 * addressed with `idFromName(did)`), and the firehose those writes feed.
 * Its public methods are the whole RPC contract the Worker relies on.
 */
export class AccountActor extends Server<Env> {
  static options = { hibernate: true }

  #committer?: Committer
  #firehose?: Firehose

  /** D1, metered: each commit batch logs what it cost (src/lib/cost.ts). */
  get #d1(): D1Database {
    return meterD1(this.env.DB)
  }

  get #config() {
    return readConfig(this.env)
  }

  #getFirehose(): Firehose {
    this.#firehose ??= new Firehose(this.#d1, () => this.getConnections<SubscriberState>(), () => this.#getCommitter().head(), this.#config.eventRetentionMs)
    return this.#firehose
  }

  #getCommitter(): Committer {
    const config = this.#config
    this.#committer ??= new Committer(
      this.#d1,
      config.did,
      config.handle,
      () => getSigningKey(config.signingKeyHex),
      (events: CommittedEvent[]) => this.#onCommitted(events),
      // A did:plc moving in starts deactivated and unannounced until its document points here.
      async () => (await checkHostedHere(config, this.env.CACHE, { fresh: true })).ok,
    )
    return this.#committer
  }

  /** Runs after a batch is in D1, on the commit path: nothing here may await or throw. */
  #onCommitted(events: CommittedEvent[]): void {
    // Fan-out runs in the next task, after the writer has its answer: with a
    // thousand subscribers the sends would otherwise delay every write. Timers
    // fire in order, so frames still leave in seq order.
    setTimeout(() => this.#getFirehose().broadcast(events), 0)
    // An #account event with active: true is emitted when the repo is first created
    // (the PDS's first events) and on every activation: the moments relays must hear of us.
    try {
      const { relayHosts } = this.#config
      const activated = events.some((e) => frameType(e.frame) === '#account' && decodeFrame(e.frame).body.active === true)
      if (activated && relayHosts.length > 0) {
        this.ctx.waitUntil(crawlRelays(getDb(this.env.DB), this.#config, { scope: 'all', reason: 'activated' }).catch((err) => log('error', 'requestCrawl not sent', errorFields(err))))
      }
    } catch (err) {
      log('error', 'requestCrawl not sent', errorFields(err))
    }
  }

  /** Creates, updates and deletes records as one signed commit. */
  async applyWrites(request: ApplyWritesRequest): Promise<ApplyWritesOutcome> {
    this.#alarmChecked ??= this.#ensurePruneAlarm()
    return this.#getCommitter().apply(request)
  }

  #alarmChecked?: Promise<void>

  /** RPC calls skip partyserver's onStart, so the first write makes sure retention pruning is scheduled. */
  async #ensurePruneAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS)
  }

  /** Moves the account to a new handle (already verified by the Worker) and announces it with #identity. */
  async updateHandle(handle: string): Promise<{ seq: number }> {
    return { seq: await this.#getCommitter().emitEvent(handleChange(this.#d1, this.#config.did, handle)) }
  }

  /** Tells relays the DID document changed (#identity), e.g. after a PLC operation. */
  async announceIdentity(): Promise<{ seq: number }> {
    return { seq: await this.#getCommitter().emitEvent(identityRefresh(this.#d1, this.#config.did)) }
  }

  /** Deactivates or reactivates the account: writes stop or resume, and relays hear of it (#account, #sync). */
  async setActive(active: boolean): Promise<{ seq: number }> {
    return { seq: await this.#getCommitter().emitEvent(statusChange(this.#d1, this.#config.did, active)) }
  }

  /**
   * One import at a time: two would share staged blocks, and one's cleanup
   * could delete blocks the other's head needs. The lease is kept in the
   * actor's storage (it outlives an eviction) and lapses if the Worker
   * holding it dies.
   */
  async beginImport(): Promise<{ ok: true; lease: string } | { ok: false; message: string }> {
    const held = await this.ctx.storage.get<{ id: string; until: number }>(IMPORT_LEASE)
    if (held && held.until > Date.now()) return { ok: false, message: `Another import is in progress (until ${new Date(held.until).toISOString()} at the latest); try again when it has finished` }
    const lease = { id: crypto.randomUUID(), until: Date.now() + IMPORT_LEASE_MS }
    await this.ctx.storage.put(IMPORT_LEASE, lease)
    return { ok: true, lease: lease.id }
  }

  /** Extends the lease of an import still running; false if it lapsed (another import may have begun). */
  async renewImport(lease: string): Promise<boolean> {
    const held = await this.ctx.storage.get<{ id: string; until: number }>(IMPORT_LEASE)
    if (held?.id !== lease || held.until <= Date.now()) return false
    await this.ctx.storage.put(IMPORT_LEASE, { id: lease, until: Date.now() + IMPORT_LEASE_MS })
    return true
  }

  /** Releases the lease (the import switched, failed or was refused). */
  async endImport(lease: string): Promise<void> {
    const held = await this.ctx.storage.get<{ id: string }>(IMPORT_LEASE)
    if (held?.id === lease) await this.ctx.storage.delete(IMPORT_LEASE)
  }

  /** Switches the repo to an imported one whose blocks the Worker has staged (see src/db/importWrites.ts). */
  async importRepo(request: ImportRequest): Promise<ApplyWritesOutcome> {
    const config = this.#config
    const committer = this.#getCommitter()
    const held = await this.ctx.storage.get<{ id: string; until: number }>(IMPORT_LEASE)
    if (held?.id !== request.lease || held.until <= Date.now()) return { ok: false, status: 400, error: 'InvalidRequest', message: 'The import lease lapsed; start the import again' }
    // Renewed for the switch: no other import may begin (and clear this one's rows as abandoned) while it runs.
    await this.ctx.storage.put(IMPORT_LEASE, { id: request.lease, until: Date.now() + IMPORT_LEASE_MS })
    try {
      await committer.emitEvent(repoImport(this.#d1, config.did, await getSigningKey(config.signingKeyHex), request))
    } catch (err) {
      if (err instanceof Refusal) return { ok: false, status: err.status, error: err.error, message: err.message }
      throw err
    }
    const head = await committer.head()
    return { ok: true, commit: { cid: head.cid, rev: head.rev }, results: [] }
  }

  /** The committed head, creating the repo on first use. */
  async getHead(): Promise<{ cid: string; rev: string; seq: number }> {
    const head = await this.#getCommitter().head()
    return { cid: head.cid, rev: head.rev, seq: head.seq }
  }

  /**
   * The actor's live state for operators (status page, npm run inspect).
   * `loadHead` (the Worker saw the repo in D1) loads the head if this instance
   * has not yet; otherwise only memory is read and no repo is ever created.
   */
  async inspect(loadHead = false): Promise<ActorState> {
    if (loadHead) await this.#getCommitter().head()
    const committer = this.#committer?.stats() ?? null
    const subscribers = [...this.getConnections<SubscriberState>()].map((c) => ({
      id: c.id,
      live: c.state?.live ?? false,
      cursor: c.state?.cursor ?? null,
      lastSent: this.#firehose?.lastSentTo(c.id) ?? null,
    }))
    return {
      committer,
      subscribers,
      replaying: this.#firehose?.replaying ?? 0,
      nextAlarm: await this.ctx.storage.getAlarm(),
      retentionHours: this.#config.eventRetentionMs / 3_600_000,
      recentErrors: recentProblems(),
    }
  }

  async onConnect(connection: Connection<SubscriberState>, ctx: ConnectionContext): Promise<void> {
    await this.#getFirehose().subscribe(connection, new URL(ctx.request.url).searchParams.get('cursor'))
  }

  async onClose(connection: Connection<SubscriberState>): Promise<void> {
    this.#firehose?.forget(connection)
  }

  async onStart(): Promise<void> {
    this.#alarmChecked ??= this.#ensurePruneAlarm()
    await this.#alarmChecked
  }

  /**
   * Event retention and blocks no export can need any more: prune, then come back later (sooner if a replay held the
   * prune off). The next alarm is set even when the prune fails: a throwing
   * alarm is retried only a few times, after which pruning would stop for good.
   */
  async onAlarm(): Promise<void> {
    const firehose = this.#getFirehose()
    try {
      await firehose.prune()
    } catch (err) {
      log('error', 'firehose prune failed', errorFields(err))
    }
    try {
      const deleted = await pruneRemovedBlocks(this.env.DB, this.#config.did, Date.now() - SNAPSHOT_LIFETIME_MS)
      if (deleted > 0) log('info', 'unreachable blocks pruned', { deleted })
    } catch (err) {
      log('error', 'block prune failed', errorFields(err))
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + (firehose.replaying > 0 ? 60_000 : PRUNE_INTERVAL_MS))
    }
  }
}
