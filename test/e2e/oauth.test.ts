/**
 * OAuth end to end, as a third-party app and its user do it: the official
 * atproto OAuth client (@atproto/oauth-client-node, a loopback client, and a
 * confidential client with private_key_jwt) against the Worker started by
 * wrangler, and headless Chromium (Debian's chromium driven by
 * playwright-core) on the sign-in and consent page. Screenshots of the pages
 * land in test/e2e/screenshots/.
 */
import { Agent } from '@atproto/api'
import { buildAtprotoLoopbackClientMetadata, JoseKey, NodeOAuthClient, type NodeSavedSession, type NodeSavedState } from '@atproto/oauth-client-node'
import { exportJWK, generateKeyPair } from 'jose'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { freePort } from './ports'
import { root, startLocalPds } from './worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const shots = path.join(import.meta.dirname, 'screenshots')
const PASSWORD = 'e2e-oauth-password'
const HANDLE = 'oauth.test'
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
let persist: string
let worker: Awaited<ReturnType<typeof startLocalPds>>['worker']
let base: string
let did: string
let browser: Browser
/** The loopback app's redirect URI: records where the browser lands. */
let app: http.Server
let appPort: number


function memoryStore<T>() {
  const map = new Map<string, T>()
  return { set: async (k: string, v: T) => void map.set(k, v), get: async (k: string) => map.get(k), del: async (k: string) => void map.delete(k) }
}

beforeAll(async () => {
  const started = await startLocalPds({ handle: HANDLE, password: PASSWORD })
  ;({ worker, persist, base, did } = started)

  appPort = await freePort()
  app = http.createServer((req, res) => {
    const url = new URL(req.url!, `http://127.0.0.1:${appPort}`)
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Signed in</title><p>You can close this window.</p>')
  })
  await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve))

  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  mkdirSync(shots, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => app?.close(resolve))
  await worker?.dispose()
  if (persist) rmSync(persist, { recursive: true, force: true })
})

/** Drives the page like a person: fills what is asked, clicks Allow, lands on the app's redirect URI. */
async function consentInBrowser(page: Page, authorizeUrl: URL, shotPrefix: string, landing = `http://127.0.0.1:${appPort}/`): Promise<URL> {
  await page.goto(authorizeUrl.toString())
  await page.screenshot({ path: path.join(shots, `${shotPrefix}-page.png`), fullPage: true })
  if (await page.locator('#password').count()) {
    await page.getByLabel('Handle').fill(HANDLE)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.screenshot({ path: path.join(shots, `${shotPrefix}-filled.png`), fullPage: true })
  }
  // The browser's request to the app's redirect URI, after our 303 (an https app has no server here: the request is enough).
  const [request] = await Promise.all([page.waitForRequest((r) => r.url().startsWith(landing)), page.getByRole('button', { name: /allow/i }).click()])
  return new URL(request.url())
}

describe('a third-party app signs in with atproto OAuth', () => {
  it('loopback client: Chromium signs in and consents, the app posts, uploads a blob and refreshes with DPoP', async () => {
    const client = new NodeOAuthClient({
      clientMetadata: buildAtprotoLoopbackClientMetadata({ scope: 'atproto transition:generic', redirect_uris: [`http://127.0.0.1:${appPort}/callback`] }),
      stateStore: memoryStore<NodeSavedState>(),
      sessionStore: memoryStore<NodeSavedSession>(),
      allowHttp: true,
    })
    const context = await browser.newContext()
    const page = await context.newPage()
    const url = await client.authorize(base, { scope: 'atproto transition:generic' })
    const callback = await consentInBrowser(page, url, 'signin-consent')
    expect(callback.searchParams.get('iss')).toBe(base)
    const { session } = await client.callback(callback.searchParams)
    expect(session.did).toBe(did)

    const agent = new Agent(session)
    const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))
    const blob = await agent.com.atproto.repo.uploadBlob(png, { encoding: 'image/png' })
    const posted = await agent.com.atproto.repo.createRecord({
      repo: did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'posted through OAuth', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'px', image: blob.data.blob }] } },
    })
    expect(posted.data.uri).toContain(did)
    const me = await agent.com.atproto.server.getSession()
    expect(me.data.did).toBe(did)

    const before = await session.getTokenInfo(false)
    const after = await session.getTokenInfo(true)
    expect(after.expiresAt?.getTime()).toBeGreaterThanOrEqual(before.expiresAt!.getTime())
    const second = await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'after refresh', createdAt: new Date().toISOString() } })
    expect(second.data.uri).toContain(did)

    // Already signed in in this browser: prompt=consent shows the consent screen alone.
    const again = await client.authorize(base, { scope: 'atproto transition:generic', prompt: 'consent' })
    await page.goto(again.toString())
    expect(await page.locator('#password').count()).toBe(0)
    await page.screenshot({ path: path.join(shots, 'consent-only.png'), fullPage: true })

    // The owner's app list shows the app; revoking it stops the session at once.
    await page.goto(`${base}/oauth/apps`)
    await page.screenshot({ path: path.join(shots, 'authorised-apps.png'), fullPage: true })
    await page.getByRole('button', { name: /^Revoke/ }).first().click()
    await page.waitForLoadState()
    await expect(agent.com.atproto.server.getSession()).rejects.toThrow()
    await context.close()
  })

  it('confidential client with private_key_jwt (jwks with a signing and an encryption key): signs in through the page and writes', async () => {
    const origin = 'https://confidential-app.example'
    const clientId = `${origin}/client-metadata.json`
    const key = await JoseKey.generate(['ES256'], 'sig-1')
    const encKey = { ...(await exportJWK((await generateKeyPair('RSA-OAEP-256', { extractable: true })).publicKey)), kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP-256' }
    const clientMetadata = {
      client_id: clientId,
      client_name: 'E2E Confidential App',
      client_uri: origin,
      redirect_uris: [`${origin}/callback`] as [string],
      scope: 'atproto transition:generic',
      grant_types: ['authorization_code', 'refresh_token'] as ['authorization_code', 'refresh_token'],
      response_types: ['code'] as ['code'],
      application_type: 'web' as const,
      token_endpoint_auth_method: 'private_key_jwt' as const,
      token_endpoint_auth_signing_alg: 'ES256',
      dpop_bound_access_tokens: true,
      jwks: { keys: [encKey, key.publicJwk] },
    }
    // No public host serves this document in a test: seed the PDS's client-metadata cache (KV) with it, as if
    // fetched. The fetch itself, through the SSRF guard, is covered by test/oauth/confidential.test.ts.
    execFileSync('wrangler', ['kv', 'key', 'put', '--binding', 'CACHE', `oauth-client:${clientId}`, JSON.stringify(clientMetadata), '--local', '--persist-to', persist], { cwd: root, stdio: 'ignore', env: { ...process.env, CI: 'true' } })

    const client = new NodeOAuthClient({ clientMetadata, keyset: [key], stateStore: memoryStore<NodeSavedState>(), sessionStore: memoryStore<NodeSavedSession>(), allowHttp: true })
    const context = await browser.newContext()
    const page = await context.newPage()
    const url = await client.authorize(base, { scope: 'atproto transition:generic' })
    const callback = await consentInBrowser(page, url, 'confidential', `${origin}/`)
    const { session } = await client.callback(callback.searchParams)
    expect(session.did).toBe(did)
    const agent = new Agent(session)
    const posted = await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'from a confidential client', createdAt: new Date().toISOString() } })
    expect(posted.data.uri).toContain(did)
    const refreshed = await session.getTokenInfo(true)
    expect(refreshed.sub).toBe(did)
    await context.close()
  })
})
