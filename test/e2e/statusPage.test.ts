/**
 * The status page at `/` in headless Chromium (Debian's chromium driven by
 * playwright-core) and `npm run inspect`, against the Worker started by
 * wrangler after real writes and with a firehose subscriber connected.
 * Screenshots go to test-results/.
 */
import { AtpAgent } from '@atproto/api'
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { root, startLocalPds } from './worker'

const PASSWORD = 'status-owner-password'
const shots = path.join(root, 'test-results')
let pds: Awaited<ReturnType<typeof startLocalPds>>
let base: string
let did: string
let agent: AtpAgent
let ws: WebSocket
let browser: Browser
/** A relay stand-in: answers requestCrawl with 200 and remembers who asked. */
let relay: http.Server
const crawlRequests: string[] = []
/** identity, account, sync, then one commit per write below. */
const WRITES = 5

beforeAll(async () => {
  relay = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      if (req.url === '/xrpc/com.atproto.sync.requestCrawl') crawlRequests.push(JSON.parse(body).hostname)
      res.setHeader('content-type', 'application/json')
      res.end('{}')
    })
  })
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
  pds = await startLocalPds({ handle: 'status.test', password: PASSWORD, vars: { RELAY_HOSTS: `http://127.0.0.1:${(relay.address() as { port: number }).port}` } })
  ;({ did, base } = pds)
  agent = new AtpAgent({ service: base })
  await agent.login({ identifier: 'status.test', password: PASSWORD })
  const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))
  const blob = await agent.uploadBlob(png, { encoding: 'image/png' })
  const post = await agent.post({ text: 'one', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'px', image: blob.data.blob }] } })
  await agent.post({ text: 'two', createdAt: new Date().toISOString() })
  await agent.post({ text: 'three', createdAt: new Date().toISOString() })
  await agent.like(post.uri, post.cid)
  await agent.upsertProfile(() => ({ displayName: 'Status' }))
  ws = new WebSocket(`${base.replace('http', 'ws')}/xrpc/com.atproto.sync.subscribeRepos`)
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)))
  mkdirSync(shots, { recursive: true })
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] })
})

afterAll(async () => {
  ws?.close()
  await browser?.close()
  relay?.close()
  await pds?.worker.dispose()
  if (pds) rmSync(pds.persist, { recursive: true, force: true })
})

describe('the status page', () => {
  it('shows anyone what this server is, and the owner its live state after signing in', async () => {
    // A phone-sized window: the page must read there.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()))
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`))
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))

    const res = await page.goto(`${base}/`)
    expect(res!.status()).toBe(200)
    const csp = res!.headers()['content-security-policy']
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('unsafe-inline')
    await expect(page.textContent('#handle')).resolves.toBe('@status.test')
    await expect(page.textContent('#did')).resolves.toBe(did)
    expect(await page.getAttribute('a[href^="https://bsky.app/profile/"]', 'href')).toBe('https://bsky.app/profile/status.test')
    expect(await page.locator('#records').count()).toBe(0) // nothing private before sign-in
    // The inline style applied (the CSP nonce works): body is capped in width.
    expect(await page.evaluate(() => getComputedStyle(document.body).maxWidth)).not.toBe('none')
    await page.screenshot({ path: path.join(shots, 'status-public.png'), fullPage: true })

    await page.fill('input[name=password]', 'not the password')
    await page.click('button[type=submit]')
    await expect(page.textContent('#message')).resolves.toBe('Wrong password.')
    expect(await page.locator('#records').count()).toBe(0)
    expect(problems).toEqual([expect.stringContaining('401')]) // the refused sign-in, and nothing else
    problems.length = 0

    await page.fill('input[name=password]', PASSWORD)
    // A write just before: the actor holds it as its last batch (it forgets that on hibernation, ~10 s idle).
    await agent.post({ text: 'four', createdAt: new Date().toISOString() })
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')])
    const text = async (id: string) => (await page.textContent(`#${id}`))!.trim()
    expect(await text('records')).toBe('6') // 4 posts, a like, a profile
    expect(await text('seq')).toBe(String(3 + WRITES + 1))
    expect(await text('subscribers')).toBe('1')
    expect(await text('blobs')).toMatch(/^1 · \d+ B$/)
    const head = (await agent.com.atproto.sync.getLatestCommit({ did })).data
    expect(await text('head')).toBe(head.cid)
    expect(await text('rev')).toBe(head.rev)
    expect(await text('actorhead')).toContain(`seq ${3 + WRITES + 1}`)
    expect(await text('batch')).toMatch(/^1 commit from 1 request, /)
    expect(await text('migrations')).toContain('0000_magical_zemo.sql')
    expect(await text('version')).toMatch(/^\d+\.\d+\.\d+$/)
    expect(await text('errors')).toBe('None since these instances started.')
    // The relay was asked when the repo was created, and its answer is shown.
    expect(crawlRequests).toContain(`localhost:${new URL(base).port}`)
    expect(await page.textContent(`tr:has(th:text-is("127.0.0.1:${(relay.address() as { port: number }).port}")) td`)).toMatch(/^ok, \d{4}-/)
    await page.screenshot({ path: path.join(shots, 'status-owner.png'), fullPage: true })

    // Nothing but the page itself was loaded, and nothing was refused.
    expect(new Set(requests.map((u) => new URL(u).origin))).toEqual(new Set([base]))
    expect(problems).toEqual([])

    await page.click('text=Sign out')
    expect(await page.locator('#records').count()).toBe(0)
    await context.close()
  })

  it('refuses sign-ins without the page’s CSRF token or from another site, and counts wrong passwords', async () => {
    const get = await fetch(`${base}/`)
    const csrfCookie = get.headers.getSetCookie().find((c) => c.startsWith('pds-csrf='))!.split(';')[0]!
    const token = csrfCookie.split('=')[1]!
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${base}/status/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams(body), headers: { cookie: csrfCookie, ...headers } })

    expect((await post({ password: PASSWORD })).status).toBe(403)
    expect((await post({ password: PASSWORD, csrf: '0'.repeat(32) })).status).toBe(403)
    expect((await post({ password: PASSWORD, csrf: token }, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await post({ password: PASSWORD, csrf: token }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    const ok = await post({ password: PASSWORD, csrf: token }, { origin: base })
    expect(ok.status).toBe(303)
    const session = ok.headers.getSetCookie().find((c) => c.startsWith('pds-owner='))!
    expect(session).toMatch(/HttpOnly/)
    expect(session).toMatch(/SameSite=Strict/)
    // The status cookie is never a bearer token, and the owner JSON needs one or the other.
    const cookieToken = session.split(';')[0]!.split('=')[1]!
    expect((await fetch(`${base}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `Bearer ${cookieToken}` } })).status).toBe(400)
    expect((await fetch(`${base}/status/inspect.json`)).status).toBe(401)
    expect((await fetch(`${base}/status/inspect.json`, { headers: { cookie: session.split(';')[0]! } })).status).toBe(200)
  })

  it('serves the owner JSON to the owner’s access token only, which npm run inspect prints', async () => {
    const appPassword = (await agent.com.atproto.server.createAppPassword({ name: 'status-test' })).data.password
    const appAgent = new AtpAgent({ service: base })
    await appAgent.login({ identifier: 'status.test', password: appPassword })
    expect((await fetch(`${base}/status/inspect.json`, { headers: { authorization: `Bearer ${appAgent.session!.accessJwt}` } })).status).toBe(401)

    await agent.post({ text: 'five', createdAt: new Date().toISOString() })
    const seq = 3 + WRITES + 2
    const json = await (await fetch(`${base}/status/inspect.json`, { headers: { authorization: `Bearer ${agent.session!.accessJwt}` } })).json()
    expect(json.d1.events.latestSeq).toBe(seq)
    expect(json.actor.subscribers).toEqual([{ id: expect.any(String), live: true, cursor: null, lastSent: seq }])
    expect(json.actor.committer.head.seq).toBe(seq)
    expect(json.actor.committer.lastBatch).toMatchObject({ commits: 1, requests: 1 })
    expect(json.actor.committer.queueDepth).toBe(0)
    expect(json.actor.retentionHours).toBe(72)
    expect(json.actor.nextAlarm).toBeGreaterThan(Date.now())

    const run = spawnSync(process.execPath, [path.join(root, 'src/dev/inspect.mjs'), '--url', base], { encoding: 'utf8', cwd: pds.persist, env: { ...process.env, PDS_PASSWORD: PASSWORD } })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain(`status.test  ${did}`)
    expect(run.stdout).toMatch(new RegExp(`head +\\S+ +rev \\S+ +seq ${seq}`))
    expect(run.stdout).toMatch(/subscribers +1/)
    expect(run.stdout).toMatch(/records +7 /)
    expect(run.stdout).toMatch(/queue depth +0/)
    expect(run.stdout).toMatch(/retention +72 h/)
    expect(run.stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+  ok at \d{4}-/)

    const wrong = spawnSync(process.execPath, [path.join(root, 'src/dev/inspect.mjs'), '--url', base], { encoding: 'utf8', cwd: pds.persist, env: { ...process.env, PDS_PASSWORD: 'wrong' } })
    expect(wrong.status).toBe(1)
    expect(wrong.stderr).toContain('401')
  })
})
