import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import { requestCrawlOnce } from '../../src/firehose/requestCrawl'
import { useNetwork, type Network } from '../standIns'
import { FirehoseClient } from './consumer'

const RELAY = 'https://relay.test'
const DOWN = 'https://down.test'

interface Crawl {
  method: string
  url: string
  contentType: string | null
  body: unknown
}

function standInRelay(calls: Crawl[], status = 200) {
  return async (req: Request) => {
    calls.push({ method: req.method, url: req.url, contentType: req.headers.get('content-type'), body: await req.json() })
    return Response.json(status === 200 ? {} : { error: 'InvalidRequest', message: 'no' }, { status })
  }
}

async function eventually(pred: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

let net: Network | undefined
afterEach(() => net?.restore())

describe('requestCrawl', () => {
  it('is sent by the actor to every relay in RELAY_HOSTS when the repo is created (the first events)', async () => {
    // Before anything reads the config in this file's fresh isolate state.
    ;(env as unknown as Record<string, string>).RELAY_HOSTS = `relay.test, ${DOWN}`
    const calls: Crawl[] = []
    net = useNetwork({ [RELAY]: standInRelay(calls) })
    // The first subscriber makes the actor load its head, which creates the repo and emits #identity, #account, #sync.
    const sub = await FirehoseClient.connect(0)
    await sub.until((f) => f.length >= 3)
    await eventually(() => net!.requests.length >= 2)
    expect(calls).toEqual([{ method: 'POST', url: `${RELAY}/xrpc/com.atproto.sync.requestCrawl`, contentType: 'application/json', body: { hostname: 'pds.test' } }])
    // The unreachable relay was tried too; its failure did not stop the stream.
    expect(net.requests).toContain(`POST ${DOWN}/xrpc/com.atproto.sync.requestCrawl`)
    expect(sub.frames.map((f) => f.header.t)).toEqual(['#identity', '#account', '#sync'])
    sub.close()
  })

  it('reports a refusal or a network failure as a value, never throwing', async () => {
    const calls: Crawl[] = []
    const fetcher = async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init)
      if (req.url.startsWith(DOWN)) throw new TypeError('connection refused')
      return standInRelay(calls, 400)(req)
    }
    await expect(requestCrawlOnce(RELAY, 'pds.test', fetcher as typeof fetch)).resolves.toEqual({ status: 'refused', detail: '400 InvalidRequest: no', retry: false })
    await expect(requestCrawlOnce(DOWN, 'pds.test', fetcher as typeof fetch)).resolves.toEqual({ status: 'failed', detail: 'TypeError: connection refused', retry: true })
    expect(calls.map((c) => c.url)).toEqual([`${RELAY}/xrpc/com.atproto.sync.requestCrawl`])
  })
})
