import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { Committer } from '../../actors/committer'
import type { CommittedEvent } from '../../actors/commitTypes'
import { meterD1 } from '../../src/db/metered'
import { decodeFrame } from '../../src/firehose/frames'
import { getSigningKey } from '../../src/identity/signingKey'
import { prepareCreateOrUpdate } from '../../src/repo/prepareWrites'

const DID = 'did:web:pipeline.test'
const KEY = 'beda21e966f145733c5de18926b3d16d598237bbb3b318c2ca0f3ead7c6b91f8'

/** D1 whose next batch can be held in flight and then failed, as a lost or refused batch would be. */
function gatedD1() {
  let gate: { release: Promise<void>; fail(): void; sent(): void } | null = null
  let sent!: Promise<void>
  const d1 = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          const held = gate
          gate = null
          if (held) {
            held.sent()
            await held.release
          }
          return target.batch(statements)
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    d1,
    /** The next batch waits in flight until the returned `fail` rejects it. */
    holdNextBatch() {
      let fail!: () => void
      let onSent!: () => void
      sent = new Promise((r) => (onSent = r))
      gate = { release: new Promise((_, reject) => (fail = () => reject(new Error('D1 is unreachable')))), fail, sent: onSent }
      return { fail, sent }
    },
  }
}

const post = (text: string) => ({ writes: [prepareCreateOrUpdate('create', { collection: 'app.bsky.feed.post', record: { text, createdAt: new Date().toISOString() } })] })
const rowOf = (sql: string, ...args: unknown[]) => env.DB.prepare(sql).bind(...args).first<Record<string, any>>()

describe('pipelined group commit', () => {
  it('a group built on a batch that then fails is rebuilt on what D1 holds, and nothing built on the failed head is ever announced', async () => {
    const { d1, holdNextBatch } = gatedD1()
    const events: CommittedEvent[] = []
    const committer = new Committer(meterD1(d1), DID, 'pipeline.test', () => getSigningKey(KEY), (e) => events.push(...e))
    const a = await committer.apply(post('A'))
    if (!a.ok) throw new Error(a.message)
    const announcedBefore = events.length

    const held = holdNextBatch()
    const b = committer.apply(post('B'))
    await held.sent // B's batch is in flight…
    let cSettled = false
    const c = committer.apply(post('C')).finally(() => (cSettled = true))
    // …while C is built and signed on top of it: but neither answered nor announced.
    await new Promise((r) => setTimeout(r, 100))
    expect(cSettled).toBe(false)
    expect(events.length).toBe(announcedBefore)

    held.fail()
    await expect(b).rejects.toThrow(/nothing was written/)
    const cOutcome = await c
    if (!cOutcome.ok) throw new Error(cOutcome.message)

    // C now follows A directly: its commit chains onto A's, and only C was announced.
    const announced = events.slice(announcedBefore).map((e) => ({ seq: e.seq, body: decodeFrame(e.frame).body }))
    expect(announced).toHaveLength(1)
    expect(announced[0]!.body.since).toBe(a.commit!.rev)
    expect(announced[0]!.body.commit.toString()).toBe(cOutcome.commit!.cid)
    expect(announced[0]!.seq).toBe(events[announcedBefore - 1]!.seq + 1)
    expect((await rowOf('SELECT cid FROM repo_root WHERE did = ?', DID))!.cid).toBe(cOutcome.commit!.cid)
    expect(await rowOf("SELECT COUNT(*) AS n FROM record WHERE did = ? AND uri LIKE '%app.bsky.feed.post%'", DID)).toEqual({ n: 2 })
  })

  it('while a batch is in flight, the writes that arrive are built into the next group and sent as one batch after it', async () => {
    const { d1, holdNextBatch } = gatedD1()
    const events: CommittedEvent[] = []
    const committer = new Committer(meterD1(d1), DID, 'pipeline.test', () => getSigningKey(KEY), (e) => events.push(...e))
    await committer.apply(post('first'))
    const held = holdNextBatch()
    const first = committer.apply(post('in flight'))
    await held.sent
    const next = Array.from({ length: 5 }, (_, i) => committer.apply(post(`queued ${i}`)))
    held.fail()
    await expect(first).rejects.toThrow()
    const outcomes = await Promise.all(next)
    const revs = outcomes.map((o) => (o.ok ? o.commit!.rev : ''))
    expect([...revs].sort()).toEqual(revs) // consecutive commits, in arrival order
    // The five went to D1 together, in one batch (after reloading the head the failure dropped).
    for (const o of outcomes) expect(o.ok && o.cost).toMatchObject({ requests: 5, d1: 2 })
  })
})
