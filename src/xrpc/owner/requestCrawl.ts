import { crawlRelays } from '../../relays/crawl'
import { procedure } from '../method'

/**
 * Owner only: asks every relay in RELAY_HOSTS to crawl us now (with the usual
 * retries) and answers with each outcome. `npm run crawl` calls it.
 */
export default procedure('dev.rawkode.pds.requestCrawl', { auth: 'full', input: 'none', oauth: 'refuse' }, async ({ db, config }) => {
  const results = await crawlRelays(db, config, { scope: 'all', reason: 'owner' })
  return { json: { hostname: config.hostname, results: results.map(({ retry: _retry, ...r }) => r) } }
})
