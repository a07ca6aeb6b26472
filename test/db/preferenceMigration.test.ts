import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'

/** The statement of a migration that mentions `needle`, as `wrangler d1 migrations apply` would run it. */
function migrationStatement(needle: string): string {
  for (const migration of env.TEST_MIGRATIONS ?? []) {
    const found = migration.queries.find((q) => q.includes(needle))
    if (found) return found
  }
  throw new Error(`no migration statement contains ${needle}`)
}

describe('migration to one preference row per account', () => {
  it('moves every app.bsky preference of each account into its row, in the order they were put', async () => {
    // The table as migrations 0000–0001 left it, with rows put in two orders by two accounts.
    await env.DB.exec('CREATE TABLE `preference` (`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL, `did` text NOT NULL, `name` text NOT NULL, `value_json` text NOT NULL)')
    const rows: [string, string, unknown][] = [
      ['did:web:a.test', 'app.bsky.actor.defs#feedViewPref', { $type: 'app.bsky.actor.defs#feedViewPref', feed: 'home', hideReplies: true }],
      ['did:web:b.test', 'app.bsky.actor.defs#adultContentPref', { $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }],
      ['did:web:a.test', 'app.bsky.actor.defs#adultContentPref', { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }],
      ['did:web:a.test', 'app.bsky.actor.defs#savedFeedsPrefV2', { $type: 'app.bsky.actor.defs#savedFeedsPrefV2', items: [{ id: '1', type: 'timeline', value: 'following', pinned: true }] }],
    ]
    for (const [did, name, value] of rows) {
      await env.DB.prepare('INSERT INTO preference (did, name, value_json) VALUES (?, ?, ?)').bind(did, name, JSON.stringify(value)).run()
    }
    await env.DB.prepare(migrationStatement('INSERT INTO `preference_set`')).run()

    const stored = (await env.DB.prepare("SELECT did, namespace, values_json FROM preference_set WHERE did IN ('did:web:a.test', 'did:web:b.test') ORDER BY did").all<any>()).results
    expect(stored.map((r) => [r.did, r.namespace, JSON.parse(r.values_json)])).toEqual([
      ['did:web:a.test', 'app.bsky', [rows[0]![2], rows[2]![2], rows[3]![2]]],
      ['did:web:b.test', 'app.bsky', [rows[1]![2]]],
    ])
  })
})
