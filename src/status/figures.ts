import type { ActorState } from '../../actors/account-actor'
import type { Config, Env } from '../env'
import { getAccount, type AccountState } from '../db/accounts'
import { getDb } from '../db/client'
import { listRelayCrawls } from '../db/relayCrawl'
import { repoFigures, type RepoFigures } from '../db/status'
import { relayOrigin } from '../firehose/requestCrawl'
import { recentProblems, type ProblemLine } from '../lib/log'
import { actorFor } from '../actorStub'
import { VERSION } from '../version'

/** Everything the owner's status page and `npm run inspect` show. */
export interface OwnerFigures {
  version: string
  did: string
  handle: string
  active: boolean
  d1: RepoFigures
  /** The actor's live state, or why it could not be read. */
  actor: ActorState | { error: string }
  relayHosts: string[]
  /** Each relay's last answer to requestCrawl (src/relays/crawl.ts), or never asked. */
  crawls: { relay: string; status: string; detail: string | null; attemptedAt: number | null; okAt: number | null }[]
  /** Problems this Worker isolate logged (the actor's are in actor.recentErrors). */
  workerErrors: ProblemLine[]
}

export async function ownerFigures(env: Env, config: Config, account?: AccountState): Promise<OwnerFigures> {
  const db = getDb(env.DB)
  const [acct, d1, crawlRows] = await Promise.all([account ?? getAccount(db, config), repoFigures(env.DB, config.did), listRelayCrawls(db)])
  const lastCrawl = new Map(crawlRows.map((r) => [r.relay, r]))
  // A repo in D1 whose actor has not loaded it (just started, or woke from hibernation) is loaded for the answer.
  const actor = await actorFor(env, config)
    .inspect(d1.head !== null)
    .catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }))
  return {
    version: VERSION,
    did: config.did,
    handle: acct.handle,
    active: acct.active,
    d1,
    actor: actor as OwnerFigures['actor'],
    relayHosts: config.relayHosts,
    crawls: config.relayHosts.map(relayOrigin).map((relay) => {
      const row = lastCrawl.get(relay)
      return { relay, status: row?.status ?? 'never asked', detail: row?.detail ?? null, attemptedAt: row?.attemptedAt ?? null, okAt: row?.okAt ?? null }
    }),
    workerErrors: recentProblems(),
  }
}
