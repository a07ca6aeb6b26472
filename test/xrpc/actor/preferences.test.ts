import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { TEST_HANDLE, TEST_PASSWORD, xrpc } from '../../helpers'

const adult = { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }
const feedView = { $type: 'app.bsky.actor.defs#feedViewPref', feed: 'home', hideReplies: true }
const personal = { $type: 'app.bsky.actor.defs#personalDetailsPref', birthDate: '1990-05-01T00:00:00.000Z' }

async function login(password = TEST_PASSWORD): Promise<string> {
  const res = await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password } })
  expect(res.status).toBe(200)
  return res.json.accessJwt
}

async function appPasswordToken(owner: string, privileged = false): Promise<string> {
  const created = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: `prefs-${crypto.randomUUID()}`, privileged } })
  return login(created.json.password)
}

const get = async (token: string) => (await xrpc('app.bsky.actor.getPreferences', { token })).json.preferences
const put = (token: string, preferences: unknown[]) => xrpc('app.bsky.actor.putPreferences', { token, body: { preferences } })

async function storedRows(): Promise<string[]> {
  const rows = (await env.DB.prepare('SELECT values_json FROM preference_set').all<{ values_json: string }>()).results
  return rows.flatMap((r) => (JSON.parse(r.values_json) as { $type: string }[]).map((p) => p.$type))
}

/** How many D1 statements the Worker prepares while `fn` runs (a batch's statements are prepared one by one). */
async function countStatements(fn: () => Promise<unknown>): Promise<number> {
  const prepare = vi.spyOn(Object.getPrototypeOf(env.DB), 'prepare')
  try {
    await fn()
    return prepare.mock.calls.length
  } finally {
    prepare.mockRestore()
  }
}

describe('preferences', () => {
  it('starts empty, replaces the whole set on each put, and keeps the order given', async () => {
    const token = await login()
    expect(await get(token)).toEqual([])
    expect((await put(token, [adult, feedView])).status).toBe(200)
    expect(await get(token)).toEqual([adult, feedView])
    expect((await put(token, [feedView])).status).toBe(200)
    expect(await get(token)).toEqual([feedView])
    expect(await storedRows()).toEqual(['app.bsky.actor.defs#feedViewPref'])
    expect((await put(token, [])).status).toBe(200)
    expect(await get(token)).toEqual([])
  })

  it('refuses preferences outside app.bsky, without $type or malformed with 400, and changes nothing', async () => {
    const token = await login()
    await put(token, [adult])
    const rows = await storedRows()
    const cases: [unknown[], string][] = [
      [[adult, { $type: 'com.example.pref', x: 1 }], 'Some preferences are not in the app.bsky namespace'],
      [[{ enabled: true }], ''],
      [[{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: 'yes' }], ''],
    ]
    for (const [preferences, message] of cases) {
      const res = await put(token, preferences)
      expect(res.status).toBe(400)
      expect(res.json.error).toBe('InvalidRequest')
      if (message) expect(res.json.message).toBe(message)
    }
    const notArray = await xrpc('app.bsky.actor.putPreferences', { token, body: { preferences: 'all' } })
    expect(notArray.status).toBe(400)
    expect(await get(token)).toEqual([adult])
    expect(await storedRows()).toEqual(rows)
  })

  it('requires a session', async () => {
    const before = await storedRows()
    expect((await xrpc('app.bsky.actor.getPreferences')).status).toBe(401)
    const res = await xrpc('app.bsky.actor.putPreferences', { body: { preferences: [adult] } })
    expect(res.status).toBe(401)
    expect(res.json.error).toBe('AuthMissing')
    expect(await storedRows()).toEqual(before)
  })

  it('derives declaredAgePref from the birth date, and never stores one a client sends', async () => {
    const token = await login()
    await put(token, [personal, { $type: 'app.bsky.actor.defs#declaredAgePref', isOverAge13: false, isOverAge16: false, isOverAge18: false }])
    expect(await get(token)).toEqual([personal, { $type: 'app.bsky.actor.defs#declaredAgePref', isOverAge13: true, isOverAge16: true, isOverAge18: true }])
    expect(await storedRows()).toEqual(['app.bsky.actor.defs#personalDetailsPref'])
  })

  it('hides personal details from app-password sessions and keeps them when such a session puts the rest', async () => {
    const owner = await login()
    for (const privileged of [false, true]) {
      await put(owner, [personal, adult])
      const app = await appPasswordToken(owner, privileged)
      const seen = await get(app)
      expect(seen.map((p: any) => p.$type)).toEqual(['app.bsky.actor.defs#adultContentPref', 'app.bsky.actor.defs#declaredAgePref'])

      const refused = await put(app, [personal])
      expect(refused.status).toBe(400)
      expect(refused.json.message).toBe('Do not have authorization to set preferences: app.bsky.actor.defs#personalDetailsPref')

      expect((await put(app, [feedView])).status).toBe(200)
      expect(await get(app)).toEqual([feedView, expect.objectContaining({ $type: 'app.bsky.actor.defs#declaredAgePref' })])
    }
    expect(await get(owner)).toEqual([personal, feedView, expect.objectContaining({ $type: 'app.bsky.actor.defs#declaredAgePref' })])
  })

  it('stores a put of thousands of preferences in one statement, and reads them back in order', async () => {
    const token = await login()
    // As many as the 150 KB body limit holds; each its own entry of an open union.
    const many = Array.from({ length: 5200 }, (_, i) => ({ $type: `app.bsky.p${i}` }))
    let res: Awaited<ReturnType<typeof put>> | undefined
    const statements = await countStatements(async () => (res = await put(token, many)))
    expect(res!.status).toBe(200)
    expect(statements).toBeLessThanOrEqual(3)
    expect(await get(token)).toEqual(many)
    // An app-password session's put keeps the personal details, still in one statement.
    expect((await put(token, [personal, adult])).status).toBe(200)
    const app = await appPasswordToken(token)
    expect(await countStatements(() => put(app, many))).toBeLessThanOrEqual(3)
    expect(await get(token)).toEqual([personal, ...many, { $type: 'app.bsky.actor.defs#declaredAgePref', isOverAge13: true, isOverAge16: true, isOverAge18: true }])
  })
})
