import type { Config } from '../env'
import type { Db } from '../db/client'
import { forgetOtherRelays, listRelayCrawls, saveRelayCrawl, type RelayCrawl } from '../db/relayCrawl'
import { relayOrigin, requestCrawlOnce, type CrawlAttempt } from '../firehose/requestCrawl'
import { log } from '../lib/log'

/** Pauses before each retry within one run; the cron is the slower retry after that. */
export const RETRY_DELAYS_MS = [2_000, 8_000]
/** A relay that said yes this long ago is asked again by the cron (relays drop hosts that go quiet). */
const REFRESH_MS = 6 * 3600_000

/**
 * Who is asked:
 * - `new`: relays never asked for this hostname (a deployment with a new relay list, checked once per isolate);
 * - `due`: also those whose last request failed or is older than REFRESH_MS (the cron);
 * - `all`: every relay now (the account was activated, or the owner asked).
 */
export type CrawlScope = 'new' | 'due' | 'all'

export interface CrawlResult extends CrawlAttempt {
  relay: string
  attempts: number
}

export interface CrawlOptions {
  scope: CrawlScope
  /** Why, for the log: `cron`, `deploy`, `activated`, `owner`. */
  reason: string
  retryDelaysMs?: number[]
  fetcher?: typeof fetch
  now?: () => number
}

/**
 * Requests a crawl from the relays in RELAY_HOSTS that `scope` selects,
 * retrying unreachable ones with backoff, and remembers each outcome in D1
 * so the cron retries failures, a new relay list is noticed, and the owner
 * can see the last result. Never throws for a relay's failure.
 */
export async function crawlRelays(db: Db, config: Config, opts: CrawlOptions): Promise<CrawlResult[]> {
  const relays = config.relayHosts.map(relayOrigin)
  const now = opts.now ?? Date.now
  const known = new Map((await listRelayCrawls(db)).map((r) => [r.relay, r]))
  if ([...known.keys()].some((r) => !relays.includes(r))) await forgetOtherRelays(db, relays)
  const chosen = relays.filter((relay) => isChosen(known.get(relay), opts.scope, config.hostname, now()))
  return Promise.all(
    chosen.map(async (relay) => {
      const result = await withRetries(relay, config.hostname, opts.retryDelaysMs ?? RETRY_DELAYS_MS, opts.fetcher)
      await saveRelayCrawl(db, { relay, hostname: config.hostname, status: result.status, detail: result.detail, attempts: result.attempts, attemptedAt: now() })
      log(result.status === 'ok' ? 'info' : 'warn', `requestCrawl ${result.status === 'ok' ? 'sent' : result.status}`, {
        relay,
        hostname: config.hostname,
        reason: opts.reason,
        attempts: result.attempts,
        ...(result.detail ? { detail: result.detail } : {}),
      })
      return result
    }),
  )
}

function isChosen(last: RelayCrawl | undefined, scope: CrawlScope, hostname: string, now: number): boolean {
  if (scope === 'all' || !last || last.hostname !== hostname) return true
  if (scope === 'new') return false
  return last.status !== 'ok' || now - (last.okAt ?? 0) > REFRESH_MS
}

async function withRetries(relay: string, hostname: string, delays: number[], fetcher?: typeof fetch): Promise<CrawlResult> {
  let attempt = await requestCrawlOnce(relay, hostname, fetcher)
  let attempts = 1
  for (const delay of delays) {
    if (!attempt.retry) break
    await new Promise((r) => setTimeout(r, delay))
    attempt = await requestCrawlOnce(relay, hostname, fetcher)
    attempts++
  }
  return { relay, attempts, ...attempt }
}

let deploymentChecked = false

/**
 * Once per isolate (a new deployment starts new isolates): relays in
 * RELAY_HOSTS that were never asked for this hostname are asked now, so a
 * changed relay list takes effect without waiting for the cron or an
 * activation. Costs one D1 read per isolate, none when RELAY_HOSTS is empty.
 */
export function crawlNewRelaysOnce(db: Db, config: Config): Promise<unknown> | null {
  if (deploymentChecked) return null
  deploymentChecked = true
  if (config.relayHosts.length === 0) return null
  return crawlRelays(db, config, { scope: 'new', reason: 'deploy' })
}
