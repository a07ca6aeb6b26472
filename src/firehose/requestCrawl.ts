import { errorFields, log } from '../lib/log'

export const REQUEST_CRAWL = 'com.atproto.sync.requestCrawl'

/** A relay that does not answer within this long is given up on (logged); it will hear from us again on the next activation. */
const TIMEOUT_MS = 10_000

/**
 * Asks each relay to subscribe to our firehose (com.atproto.sync.requestCrawl
 * with our hostname). Relays learn of a PDS only this way, so we call it when
 * the PDS first has events and whenever the account is activated. Best
 * effort: a relay that is down or refuses is logged and never fails anything;
 * the returned promise always resolves.
 *
 * `relayHosts` are host names (`bsky.network`), or full origins
 * (`http://localhost:2470`) for a relay on a development machine.
 */
export async function requestCrawl(relayHosts: string[], hostname: string, fetcher: typeof fetch = fetch): Promise<void> {
  await Promise.all(
    relayHosts.map(async (relay) => {
      const origin = relay.includes('://') ? relay.replace(/\/+$/, '') : `https://${relay}`
      try {
        const res = await fetcher(`${origin}/xrpc/${REQUEST_CRAWL}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ hostname }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        })
        if (res.ok) {
          await res.body?.cancel()
          log('info', 'requestCrawl sent', { relay: origin, hostname })
        } else {
          log('warn', 'requestCrawl refused', { relay: origin, hostname, status: res.status, body: (await res.text()).slice(0, 300) })
        }
      } catch (err) {
        log('warn', 'requestCrawl failed', { relay: origin, hostname, ...errorFields(err) })
      }
    }),
  )
}
