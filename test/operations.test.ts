import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Env } from '../src/env'
import worker from '../src/index'
import { TEST_HANDLE, TEST_PASSWORD, xrpc } from './helpers'
import { APPVIEW, standInService, useNetwork, type Network } from './standIns'

let lines: Record<string, any>[]
beforeEach(() => {
  lines = []
  for (const level of ['log', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((line: unknown) => {
      try {
        lines.push(JSON.parse(String(line)))
      } catch {}
    })
  }
})
afterEach(() => vi.restoreAllMocks())

const requestLines = (nsid: string) => lines.filter((l) => l.msg === 'request' && l.nsid === nsid)

async function call(path: string, callEnv: Env, init?: RequestInit) {
  const ctx = createExecutionContext()
  const res = await worker.fetch!(new Request(`https://pds.test${path}`, init) as any, callEnv, ctx)
  await waitOnExecutionContext(ctx)
  return { status: res.status, text: await res.text() }
}

describe('operators can tell what failed', () => {
  it('the request log line of an error names the XRPC error, and never the token or password sent', async () => {
    const badToken = 'not-a-real-token-but-secret-looking-0123456789'
    await xrpc('com.atproto.repo.createRecord', { token: badToken, body: { repo: 'did:web:pds.test', collection: 'app.bsky.feed.post', record: {} } })
    await xrpc('com.atproto.server.getSession')
    await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: 'wrong-password-value' } })
    expect(requestLines('com.atproto.repo.createRecord')).toMatchObject([{ status: 400, error: 'InvalidToken' }])
    expect(requestLines('com.atproto.server.getSession')).toMatchObject([{ status: 401, error: 'AuthMissing' }])
    expect(requestLines('com.atproto.server.createSession')).toMatchObject([{ status: 401, error: 'AuthenticationRequired' }])
    const all = JSON.stringify(lines)
    expect(all).not.toContain(badToken)
    expect(all).not.toContain('wrong-password-value')
    // A success carries no error field.
    await xrpc('com.atproto.server.describeServer')
    expect(requestLines('com.atproto.server.describeServer')[0]).not.toHaveProperty('error')
  })

  it('a proxied call that the upstream refuses is logged with the upstream\'s error name', async () => {
    const appView = standInService(APPVIEW.did, { 'app.bsky.feed.getPostThread': () => Response.json({ error: 'NotFound', message: 'Post not found' }, { status: 400 }) })
    const net: Network = useNetwork({ [APPVIEW.url]: appView.handler })
    try {
      const token = (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD } })).json.accessJwt
      const res = await xrpc('app.bsky.feed.getPostThread', { token, params: { uri: 'at://did:plc:bobbobbobbobbobbobbobbob/app.bsky.feed.post/3kabc' } })
      expect(res.json).toEqual({ error: 'NotFound', message: 'Post not found' })
      expect(requestLines('app.bsky.feed.getPostThread')).toMatchObject([{ status: 400, error: 'NotFound' }])
    } finally {
      net.restore()
    }
  })

  it('/xrpc/_health answers 200 when the configuration is valid, and 503 naming the bad settings (no values) when not', async () => {
    const ok = await call('/xrpc/_health', env as Env)
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.text)).toEqual({ version: expect.any(String) })

    const shortSecret = 'short-secret-value'
    const broken = { ...env, JWT_SECRET: shortSecret, PDS_SIGNING_KEY: '', BLOB_MAX_BYTES: '-3' } as Env
    const health = await call('/xrpc/_health', broken)
    expect(health.status).toBe(503)
    const body = JSON.parse(health.text)
    expect(body).toMatchObject({ error: 'InvalidConfiguration', settings: ['PDS_SIGNING_KEY', 'JWT_SECRET', 'BLOB_MAX_BYTES'] })
    expect(health.text).not.toContain(shortSecret)

    // Every real call says the same, rather than a bare 500, and the log names the settings.
    const real = await call('/xrpc/com.atproto.server.describeServer', broken)
    expect(real.status).toBe(503)
    expect(JSON.parse(real.text)).toEqual({ error: 'InvalidConfiguration', message: 'The server configuration is invalid: see /xrpc/_health' })
    expect(lines.find((l) => l.msg === 'invalid configuration')).toMatchObject({ settings: ['PDS_SIGNING_KEY', 'JWT_SECRET', 'BLOB_MAX_BYTES'] })
    expect(requestLines('com.atproto.server.describeServer').at(-1)).toMatchObject({ status: 503, error: 'InvalidConfiguration' })
    expect(JSON.stringify(lines)).not.toContain(shortSecret)
  })
})
