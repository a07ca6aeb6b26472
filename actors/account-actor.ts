import { Server, type Connection, type ConnectionContext } from 'partyserver'
import { readConfig, type Env } from '../src/env'
import { getSigningKey } from '../src/identity/signingKey'
import type { ApplyWritesOutcome, ApplyWritesRequest } from './commitTypes'
import { Committer, type CommittedEvent } from './committer'
import { Firehose, type SubscriberState } from './firehose'

const PRUNE_INTERVAL_MS = 60 * 60 * 1000

/**
 * The single writer of one account's repo (one instance per account DID,
 * addressed with `idFromName(did)`), and the firehose those writes feed.
 * Its public methods are the whole RPC contract the Worker relies on.
 */
export class AccountActor extends Server<Env> {
  static options = { hibernate: true }

  #committer?: Committer
  #firehose?: Firehose

  get #config() {
    return readConfig(this.env)
  }

  #getFirehose(): Firehose {
    this.#firehose ??= new Firehose(this.env.DB, () => this.getConnections<SubscriberState>(), () => this.#getCommitter().head(), this.#config.eventRetentionMs)
    return this.#firehose
  }

  #getCommitter(): Committer {
    const config = this.#config
    this.#committer ??= new Committer(this.env.DB, config.did, config.handle, () => getSigningKey(config.signingKeyHex), (events: CommittedEvent[]) =>
      this.#getFirehose().broadcast(events),
    )
    return this.#committer
  }

  /** Creates, updates and deletes records as one signed commit. */
  async applyWrites(request: ApplyWritesRequest): Promise<ApplyWritesOutcome> {
    return this.#getCommitter().apply(request)
  }

  /** The committed head, creating the repo on first use. */
  async getHead(): Promise<{ cid: string; rev: string; seq: number }> {
    const head = await this.#getCommitter().head()
    return { cid: head.cid, rev: head.rev, seq: head.seq }
  }

  async onConnect(connection: Connection<SubscriberState>, ctx: ConnectionContext): Promise<void> {
    await this.#getFirehose().subscribe(connection, new URL(ctx.request.url).searchParams.get('cursor'))
  }

  async onClose(connection: Connection<SubscriberState>): Promise<void> {
    this.#firehose?.forget(connection)
  }

  async onStart(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS)
  }

  /** Event retention: prune, then come back later (sooner if a replay held the prune off). */
  async onAlarm(): Promise<void> {
    const firehose = this.#getFirehose()
    await firehose.prune()
    await this.ctx.storage.setAlarm(Date.now() + (firehose.replaying > 0 ? 60_000 : PRUNE_INTERVAL_MS))
  }
}
