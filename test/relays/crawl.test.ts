import { env } from 'cloudflare:workers'
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getDb } from '../../src/db/client'
import { listRelayCrawls } from '../../src/db/relayCrawl'
import { readConfig, type Env } from '../../src/env'
import worker from '../../src/index'
import { crawlRelays } from '../../src/relays/crawl'
import { TEST_HANDLE, TEST_PASSWORD, xrpc } from '../helpers'
import { useNetwork, type Network } from '../standIns'

const RELAY = 'https://relay.test'
const OTHER = 'https://other-relay.test'
const db = getDb(env.DB)

/** A relay that is down (connection refused) for its first `downFor` requests, then accepts. */
function flakyRelay(downFor: number) {
  const received: unknown[] = []
  let seen = 0
  const handler = async (req: Request) => {
    if (seen++ < downFor) throw new TypeError('connection refused')
    received.push(await req.json())
    return Response.json({})
  }
  return { handler, received, get seen() { return seen } }
}

const withRelays = (hosts: string, extra: Partial<Env> = {}) => readConfig({ ...env, RELAY_HOSTS: hosts, ...extra } as Env)

let net: Network
beforeEach(async () => {
  await env.DB.prepare('DELETE FROM relay_crawl').run()
})
afterEach(() => net?.restore())

describe('asking relays to crawl us', () => {
  it('retries a relay that is down for the first request, with backoff, and remembers that it said yes', async () => {
    const relay = flakyRelay(1)
    net = useNetwork({ [RELAY]: relay.handler })
    const results = await crawlRelays(db, withRelays('relay.test'), { scope: 'all', reason: 'test', retryDelaysMs: [10, 10] })
    expect(results).toEqual([{ relay: RELAY, status: 'ok', detail: null, retry: false, attempts: 2 }])
    expect(relay.received).toEqual([{ hostname: 'pds.test' }])
    expect(await listRelayCrawls(db)).toMatchObject([{ relay: RELAY, hostname: 'pds.test', status: 'ok', attempts: 2 }])
  })

  it('a relay still down after the retries is asked again by the cron, which reaches it later', async () => {
    const relay = flakyRelay(3)
    net = useNetwork({ [RELAY]: relay.handler })
    const config = withRelays('relay.test')
    const first = await crawlRelays(db, config, { scope: 'all', reason: 'activated', retryDelaysMs: [10, 10] })
    expect(first[0]).toMatchObject({ status: 'failed', attempts: 3, detail: 'TypeError: connection refused' })
    expect((await listRelayCrawls(db))[0]).toMatchObject({ status: 'failed', okAt: null })

    // A deployment check does not hammer a relay that is merely down: only new relays.
    expect(await crawlRelays(db, config, { scope: 'new', reason: 'deploy' })).toEqual([])
    // The cron does retry it, and this time it is up.
    const later = await crawlRelays(db, config, { scope: 'due', reason: 'cron', retryDelaysMs: [] })
    expect(later).toMatchObject([{ relay: RELAY, status: 'ok', attempts: 1 }])
    expect(relay.received).toEqual([{ hostname: 'pds.test' }])
    // …and leaves a relay that said yes recently alone.
    expect(await crawlRelays(db, config, { scope: 'due', reason: 'cron' })).toEqual([])
    // Hours later it asks again: relays forget hosts that go quiet.
    expect(await crawlRelays(db, config, { scope: 'due', reason: 'cron', now: () => Date.now() + 7 * 3600_000 })).toMatchObject([{ status: 'ok' }])
  })

  it('a new relay list (a deployment) asks only the relays not asked before, and forgets removed ones', async () => {
    const a = flakyRelay(0)
    const b = flakyRelay(0)
    net = useNetwork({ [RELAY]: a.handler, [OTHER]: b.handler })
    await crawlRelays(db, withRelays('relay.test'), { scope: 'new', reason: 'deploy' })
    const second = await crawlRelays(db, withRelays('relay.test, other-relay.test'), { scope: 'new', reason: 'deploy' })
    expect(second.map((r) => r.relay)).toEqual([OTHER])
    expect([a.seen, b.seen]).toEqual([1, 1])
    await crawlRelays(db, withRelays('other-relay.test'), { scope: 'new', reason: 'deploy' })
    expect((await listRelayCrawls(db)).map((r) => r.relay)).toEqual([OTHER])
    // A changed hostname is news to every relay.
    await crawlRelays(db, withRelays('other-relay.test', { PDS_HOSTNAME: 'new.example.com', PDS_DID: 'did:web:new.example.com' }), { scope: 'new', reason: 'deploy' })
    expect(b.received.at(-1)).toEqual({ hostname: 'new.example.com' })
  })

  it('the cron trigger asks relays it has not reached', async () => {
    const relay = flakyRelay(0)
    net = useNetwork({ [RELAY]: relay.handler })
    const ctx = createExecutionContext()
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: '17 * * * *' }), { ...env, RELAY_HOSTS: 'relay.test' } as Env, ctx)
    await waitOnExecutionContext(ctx)
    expect(relay.received).toEqual([{ hostname: 'pds.test' }])
  })

  it('defaults to the main Bluesky relay for a deployment; a local host, or an empty list, asks none', () => {
    const base = { ...env } as Record<string, unknown>
    delete base.RELAY_HOSTS
    expect(readConfig({ ...base, PDS_HOSTNAME: 'pds.example.com', PDS_DID: 'did:web:pds.example.com' } as unknown as Env).relayHosts).toEqual(['bsky.network'])
    expect(readConfig({ ...base, PDS_HOSTNAME: 'localhost:8787', PDS_DID: 'did:web:localhost%3A8787' } as unknown as Env).relayHosts).toEqual([])
    expect(readConfig({ ...base, RELAY_HOSTS: '' } as unknown as Env).relayHosts).toEqual([])
    expect(readConfig({ ...base, RELAY_HOSTS: 'a.test, http://localhost:2470' } as unknown as Env).relayHosts).toEqual(['a.test', 'http://localhost:2470'])
  })
})

describe('the owner\'s crawl endpoints', () => {
  async function ownerToken(password = TEST_PASSWORD) {
    return (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password } })).json.accessJwt as string
  }

  it('requestCrawl asks now and getCrawlStatus shows the last result; others are refused', async () => {
    // The endpoints read RELAY_HOSTS from the Worker's config: route through a Worker env that names a relay.
    const relay = flakyRelay(0)
    net = useNetwork({ [RELAY]: relay.handler })
    const relayEnv = { ...env, RELAY_HOSTS: 'relay.test' } as Env
    const call = async (nsid: string, token?: string, method = 'GET') => {
      const ctx = createExecutionContext()
      const res = await worker.fetch!(new Request(`https://pds.test/xrpc/${nsid}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} }) as any, relayEnv, ctx)
      await waitOnExecutionContext(ctx)
      return { status: res.status, json: (await res.json()) as any }
    }
    const token = await ownerToken()
    expect((await call('dev.rawkode.pds.getCrawlStatus', token)).json).toEqual({ hostname: 'pds.test', relays: [{ relay: RELAY, status: expect.any(String) }].map((r) => expect.objectContaining(r)) })

    const asked = await call('dev.rawkode.pds.requestCrawl', token, 'POST')
    expect(asked.status).toBe(200)
    expect(asked.json).toEqual({ hostname: 'pds.test', results: [{ relay: RELAY, status: 'ok', detail: null, attempts: 1 }] })
    const status = await call('dev.rawkode.pds.getCrawlStatus', token)
    expect(status.json.relays).toEqual([expect.objectContaining({ relay: RELAY, status: 'ok', attempts: 1, hostname: 'pds.test', lastOkAt: expect.any(String) })])

    expect((await call('dev.rawkode.pds.requestCrawl', undefined, 'POST')).status).toBe(401)
    const app = await xrpc('com.atproto.server.createAppPassword', { token, body: { name: `crawl-${crypto.randomUUID()}` } })
    const appToken = await ownerToken(app.json.password)
    expect((await call('dev.rawkode.pds.getCrawlStatus', appToken)).status).toBe(400)
  })
})
