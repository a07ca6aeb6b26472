// Bindings the tests see through `cloudflare:workers`: the Worker's own plus the migrations.
import type { D1Migration } from 'cloudflare:test'
import type { Env as WorkerEnv } from '../src/env'

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS?: D1Migration[]
    }
  }
}
