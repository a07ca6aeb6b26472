import { listRelayCrawls } from '../../db/relayCrawl'
import { relayOrigin } from '../../firehose/requestCrawl'
import { query } from '../method'

/** Owner only: the relays we ask to crawl us and the last answer each gave (`npm run crawl -- --status`). */
export default query('dev.rawkode.pds.getCrawlStatus', { auth: 'full', oauth: 'refuse' }, async ({ db, config }) => {
  const last = new Map((await listRelayCrawls(db)).map((r) => [r.relay, r]))
  const relays = config.relayHosts.map(relayOrigin).map((relay) => {
    const row = last.get(relay)
    if (!row) return { relay, status: 'never' }
    const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString())
    return { relay, status: row.status, detail: row.detail ?? undefined, attempts: row.attempts, hostname: row.hostname, attemptedAt: iso(row.attemptedAt), lastOkAt: iso(row.okAt) }
  })
  return { json: { hostname: config.hostname, relays } }
})
