import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { experimental_readRawConfig } from 'wrangler'
import { defineConfig, defineProject } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

const root = path.resolve(import.meta.dirname, '..')

/**
 * wrangler.toml, copied with absolute paths into a folder of its own: the
 * pool reads `.dev.vars` next to its config, and tests must not pick up the
 * developer's own secrets (nor print "Using secrets defined in .dev.vars" per file).
 */
function testWranglerConfig(): string {
  const { rawConfig } = experimental_readRawConfig({ config: path.join(root, 'wrangler.toml') })
  const dir = path.join(root, 'node_modules/.cache/rawkode-pds-test')
  mkdirSync(dir, { recursive: true })
  const config = {
    ...rawConfig,
    main: path.join(root, rawConfig.main!),
    d1_databases: rawConfig.d1_databases?.map((d) => ({ ...d, migrations_dir: path.join(root, d.migrations_dir ?? 'migrations') })),
  }
  const file = path.join(dir, 'wrangler.json')
  writeFileSync(file, JSON.stringify(config, null, 2))
  return file
}

/**
 * Test files with a runtime of their own; every other workers file shares one
 * runtime per Vitest worker, with storage wiped between files. requestCrawl
 * changes the Worker's environment object (read once per isolate). The others
 * assert that R2 holds exactly the objects they made: one full run in seven saw
 * a stray upload object from an earlier file land after the wipe (not yet traced;
 * test/storageReset.test.ts watches for it in the shared runtime).
 */
const OWN_RUNTIME = [
  'test/firehose/requestCrawl.test.ts',
  'test/blobs/store.test.ts',
  'test/blobs/gc.test.ts',
  'test/xrpc/repo/uploadBlob.test.ts',
  'test/xrpc/repo/uploadStall.test.ts',
]

/** The Workers pool (real local D1, R2, KV and Durable Objects in workerd), one plugin per project. */
const workersPool = () =>
  cloudflareTest(async () => ({
    wrangler: { configPath: testWranglerConfig() },
    miniflare: {
      bindings: {
        // Fixed test identity; never used outside tests.
        PDS_HOSTNAME: 'pds.test',
        PDS_DID: 'did:web:pds.test',
        PDS_HANDLE: 'alice.test',
        ADMIN_PASSWORD: 'test-admin-password',
        JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
        PDS_SIGNING_KEY: 'beda21e966f145733c5de18926b3d16d598237bbb3b318c2ca0f3ead7c6b91f8',
        RELAY_HOSTS: '',
        // Proxy targets are stand-ins on loopback (test/standIns.ts), reachable only with the dev override.
        PROXY_ALLOW_INSECURE: 'true',
        BSKY_APPVIEW_URL: 'http://127.0.0.1:2584',
        BSKY_APPVIEW_DID: 'did:web:appview.test',
        BSKY_CHAT_URL: 'http://127.0.0.1:2585',
        BSKY_CHAT_DID: 'did:web:chat.test',
        PLC_DIRECTORY_URL: 'http://127.0.0.1:2582',
        // 1 MiB (default 100 MB) so upload tests can exceed the limit cheaply; > Bluesky's 1,000,000-byte image limit.
        BLOB_MAX_BYTES: '1048576',
        TEST_MIGRATIONS: await readD1Migrations(path.join(root, 'migrations')),
      },
    },
  }))

const workersTest = { root, setupFiles: ['test/setup.ts'], testTimeout: 60_000, hookTimeout: 60_000 }

/**
 * Three projects: `workers` runs inside workerd (Cloudflare's Vitest
 * integration). Starting a runtime costs seconds, so its files share one
 * (`isolate: false`) and test/setup.ts wipes storage before each file; the few
 * that need a fresh isolate are `workers-own-runtime`. `e2e` runs in Node
 * against the Worker started by wrangler, over real HTTP and WebSockets.
 */
const workers = defineProject({
  plugins: [workersPool()],
  test: { ...workersTest, name: 'workers', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', ...OWN_RUNTIME], isolate: false },
})

const workersOwnRuntime = defineProject({
  plugins: [workersPool()],
  test: { ...workersTest, name: 'workers-own-runtime', include: OWN_RUNTIME, isolate: true },
})

const e2e = defineProject({
  test: {
    name: 'e2e',
    root,
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})

/** The longest workers file (2,000+ commits); without earlier timings Vitest queues small files last. */
const LONG = ['test/firehose/longRun.test.ts']

/**
 * Vitest queues projects by name, which put the file with a runtime of its own
 * last, where its runtime's start-up trailed the whole run; it goes first. In
 * a fresh clone (no timings yet) files go largest first, which left LONG
 * trailing too; it leads its project.
 */
class LongPolesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const projects = [...new Set(sorted.map((f) => f.project.name))]
    const rank = (f: TestSpecification) =>
      f.project.name === workersOwnRuntime.test!.name ? -1 : projects.indexOf(f.project.name) * 2 + (LONG.includes(path.relative(root, f.moduleId)) ? 0 : 1)
    // A stable sort: Vitest's order (by earlier timings, else size) within each rank.
    return [...sorted].sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  test: {
    projects: [workers, workersOwnRuntime, e2e],
    // Vitest's default is one worker fewer than the cores (one on a 2-core machine); the
    // tests mostly wait on workerd, wrangler and sockets, so use every core.
    maxWorkers: 2,
    sequence: { sequencer: LongPolesFirst },
    // Request logs are noise in passing tests; a failing test still shows them.
    silent: 'passed-only',
  },
})
