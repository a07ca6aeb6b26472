/**
 * `npm run migrate` against the reference PDS as the old host: a dry run
 * changes nothing, a run stopped after every step (and killed midway through
 * the import and the blob copy) and resumed ends moved and verified, without
 * copying a blob twice, and a rerun afterwards has nothing left to do.
 */
import { AtpAgent } from '@atproto/api'
import { verifyRepoCar } from '@atproto/repo'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { atprotoKeyOf, fillOldAccount, mailedToken, snapshot } from './migration/flow'
import { startOurPds, startRefPds, type OurPds, type RefPds } from './migration/servers'

const root = path.resolve(import.meta.dirname, '../..')
const STEPS = ['createAccount', 'importRepo', 'preferences', 'blobs', 'plcSign', 'plcSubmit', 'activate', 'deactivateOld', 'verify']
let ref: RefPds
let ours: OurPds
let old: AtpAgent
let work: string

beforeAll(async () => {
  ref = await startRefPds()
  old = new AtpAgent({ service: ref.url })
  await old.login({ identifier: ref.identifier, password: ref.password })
  await fillOldAccount(old, ref.did)
  ours = await startOurPds({ did: ref.did, handle: ref.identifier, plc: ref.plc })
  work = mkdtempSync(path.join(os.tmpdir(), 'migrate-cli-'))
}, 240_000)

afterAll(async () => {
  await ours?.stop()
  ref?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

/** Runs the CLI; a prompt for the PLC code is answered with the token the reference "mailed". `killWhen`: SIGKILL it once its output matches. */
function migrate(...options: (string | { killWhen: RegExp })[]): Promise<{ code: number | null; out: string }> {
  const killWhen = options.find((a): a is { killWhen: RegExp } => typeof a !== 'string')?.killWhen
  const extra = options.filter((a): a is string => typeof a === 'string')
  const args = ['src/cli/migrate.mjs', '--from', ref.url, '--handle', ref.identifier, '--to', ours.url, '--plc', ref.plc, '--checkpoint', path.join(work, 'checkpoint.json'), ...extra]
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, OLD_PASSWORD: ref.password, NEW_PASSWORD: ours.password }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let answered = false
  const onData = async (d: Buffer) => {
    out += d
    if (killWhen?.test(out)) child.kill('SIGKILL')
    if (!answered && out.includes('confirmation code')) {
      answered = true
      child.stdin.write(`${await mailedToken(ref.emailTokens, ref.did)}\n`)
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', (d) => (out += d))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })))
}

describe('npm run migrate', () => {
  it('dry run: checks both sides, prints the plan, changes nothing', async () => {
    const { code, out } = await migrate('--dry-run')
    expect(code, out).toBe(0)
    expect(out).toContain(`move        ${ref.did}`)
    expect(out).toContain('createAccount → importRepo')
    expect((await fetch(`${ref.plc}/${ref.did}`).then((r) => r.json())).service[0].serviceEndpoint).toBe(ref.url)
    expect((await old.com.atproto.sync.getRepoStatus({ did: ref.did })).data.active).toBe(true)
  })

  it('stopped after every step and killed midway through the import and the blobs, resumed it ends moved and verified; a rerun finds nothing to do', async () => {
    const before = await snapshot(old, ref.did)
    const stopAfter = async (stop: string) => {
      const { code, out } = await migrate('--stop-after', stop)
      expect([stop, code], out).toEqual([stop, 0])
      expect(out).toContain(`Stopped after ${stop}`)
      return out
    }
    await stopAfter('createAccount')

    // A run killed while its import was uploading: the server holds a lease for an import whose client is gone.
    const owner = new AtpAgent({ service: ours.url })
    await owner.login({ identifier: ref.did, password: ours.password })
    const exported = (await old.com.atproto.sync.getRepo({ did: ref.did })).data
    const abort = new AbortController()
    const half = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(exported.slice(0, exported.byteLength >> 1)) })
    const dying = fetch(`${ours.url}/xrpc/com.atproto.repo.importRepo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.session!.accessJwt}`, 'content-type': 'application/vnd.ipld.car' },
      body: half,
      duplex: 'half',
      signal: abort.signal,
    } as RequestInit).catch(() => null)
    await new Promise((r) => setTimeout(r, 1000))
    abort.abort()
    await dying
    // The rerun waits the dead import out (or finds it gone) and imports; nothing of the dead one is left.
    await stopAfter('importRepo')
    await stopAfter('preferences')

    // Killed once the first of the two blobs is uploaded: the rerun copies only what is still missing.
    const killed = await migrate({ killWhen: /1\/2 blobs/ })
    expect(killed.code, killed.out).toBe(null)
    const status = (await owner.com.atproto.server.checkAccountStatus()).data
    expect(status.importedBlobs).toBeGreaterThanOrEqual(1)
    const resumed = await stopAfter('blobs')
    expect(resumed.match(/\d+\/\d+ blobs/g) ?? []).toHaveLength(status.expectedBlobs - status.importedBlobs)
    for (const stop of STEPS.slice(4, -1)) await stopAfter(stop)
    const last = await migrate()
    expect(last.code, last.out).toBe(0)
    expect(last.out).toContain(`✓ ${ref.did} now lives at ${ours.url}`)
    expect(last.out).toContain('every record of the old export is here')

    // Checked here independently of the CLI's own verification.
    const doc = await fetch(`${ref.plc}/${ref.did}`).then((r) => r.json())
    expect(doc.service[0].serviceEndpoint).toBe(ours.url)
    const key = atprotoKeyOf(doc)
    expect(key).toBe(ours.signingKey.did())
    const agent = new AtpAgent({ service: ours.url })
    await agent.login({ identifier: ref.did, password: ours.password })
    const car = (await agent.com.atproto.sync.getRepo({ did: ref.did })).data
    expect((await verifyRepoCar(car, ref.did, key)).creates).toHaveLength(before.records.size)
    const after = await snapshot(agent, ref.did)
    expect(after.records).toEqual(before.records)
    expect(after.blobs).toEqual(before.blobs)
    expect((await old.com.atproto.sync.getRepoStatus({ did: ref.did })).data).toMatchObject({ active: false })

    const again = await migrate()
    expect(again.code, again.out).toBe(0)
    expect(again.out.match(/already done/g)).toHaveLength(STEPS.length - 1)
  }, 900_000)
})
