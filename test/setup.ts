import { applyD1Migrations, reset } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterAll, vi } from 'vitest'

// Test files share a runtime (isolate: false in vitest.config.ts), so each file
// starts by deleting every Durable Object (the accounts, and D1, R2 and KV,
// which workerd keeps in Durable Objects), then brings D1 up to the current schema.
await reset()
await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] }).TEST_MIGRATIONS)

// No spy (a stand-in network, a silenced console) outlives its file.
afterAll(() => vi.restoreAllMocks())
