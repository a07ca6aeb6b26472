export const REQUEST_CRAWL = 'com.atproto.sync.requestCrawl'

/** A relay that does not answer within this long counts as unreachable for this attempt. */
const TIMEOUT_MS = 10_000

export interface CrawlAttempt {
  /** `ok`; `refused`: the relay answered with an error; `failed`: it could not be reached. */
  status: 'ok' | 'refused' | 'failed'
  /** The HTTP status and the relay's error, or the network error (for the owner and the log). */
  detail: string | null
  /** Worth trying again soon: unreachable, 5xx or 429 (a 4xx refusal waits for the next cron). */
  retry: boolean
}

/** `bsky.network` → `https://bsky.network`; a full origin (`http://localhost:2470`, a dev relay) is kept. */
export function relayOrigin(relay: string): string {
  return relay.includes('://') ? relay.replace(/\/+$/, '') : `https://${relay}`
}

/**
 * Asks one relay to subscribe to our firehose (com.atproto.sync.requestCrawl
 * with our hostname): relays learn of a PDS only this way. Never throws.
 */
export async function requestCrawlOnce(origin: string, hostname: string, fetcher: typeof fetch = fetch): Promise<CrawlAttempt> {
  try {
    const res = await fetcher(`${origin}/xrpc/${REQUEST_CRAWL}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostname }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    if (res.ok) {
      await res.body?.cancel()
      return { status: 'ok', detail: null, retry: false }
    }
    const text = (await res.text().catch(() => '')).slice(0, 300)
    let error = ''
    try {
      const body = JSON.parse(text)
      error = [body.error, body.message].filter(Boolean).join(': ')
    } catch {
      error = text
    }
    return { status: 'refused', detail: `${res.status} ${error}`.trim(), retry: res.status >= 500 || res.status === 429 }
  } catch (err) {
    return { status: 'failed', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err), retry: true }
  }
}
