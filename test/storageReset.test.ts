import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { TEST_DID } from './helpers'

/**
 * Workers test files share a runtime (vitest.config.ts); test/setup.ts wipes
 * storage before each file. Whichever files ran before this one in the same
 * runtime, it must find nothing of theirs.
 */
describe('a workers test file', () => {
  it('starts with every D1 table empty, no R2 object, no KV key, and an account actor with nothing stored', async () => {
    const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'").all<{ name: string }>()
    expect(results.length).toBeGreaterThan(5) // the schema is there
    const rows = await env.DB.batch(results.map(({ name }) => env.DB.prepare(`SELECT '${name}' AS name, count(*) AS n FROM "${name}"`)))
    expect(rows.flatMap((r) => r.results as { name: string; n: number }[]).filter((r) => r.n > 0)).toEqual([])
    expect((await env.BLOBS.list()).objects).toEqual([])
    expect((await env.CACHE.list()).keys).toEqual([])
    // The account's actor: no stored state (the import lease) and no alarm (retention pruning).
    const actor = env.ACCOUNT.get(env.ACCOUNT.idFromName(TEST_DID))
    expect(await runInDurableObject(actor, async (_, state) => ({ keys: [...(await state.storage.list()).keys()], alarm: await state.storage.getAlarm() }))).toEqual({ keys: [], alarm: null })
  })
})
