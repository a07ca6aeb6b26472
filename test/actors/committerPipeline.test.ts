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
    /** The next batch waits in flight until the returned `pass` lets it through or `fail` rejects it. */
    holdNextBatch() {
      let fail!: () => void
      let pass!: () => void
      let onSent!: () => void
      sent = new Promise((r) => (onSent = r))
      const release = new Promise<void>((resolve, reject) => {
        fail = () => reject(new Error('D1 is unreachable'))
        pass = resolve
      })
      gate = { release, fail, sent: onSent }
      return { fail, pass, sent }
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

  it('a group on top of one in flight reads the blocks that one wrote, also from a tree loaded afresh', async () => {
    const { d1, holdNextBatch } = gatedD1()
    // Every commit loads its tree afresh from blocks: nothing is served from a tree kept in memory.
    const did = 'did:web:pipeline-reload.test'
    const committer = new Committer(meterD1(d1), did, 'pipeline-reload.test', () => getSigningKey(KEY), () => {}, undefined, 1)
    const many = Array.from({ length: 150 }, (_, i) => prepareCreateOrUpdate('create', { collection: 'app.bsky.feed.post', record: { text: `p${i}`, createdAt: new Date().toISOString() } }))
    expect((await committer.apply({ writes: many })).ok).toBe(true)
    const profile = (name: string) => ({ ...prepareCreateOrUpdate('update', { collection: 'app.bsky.actor.profile', rkey: 'self', record: { displayName: name } }), upsert: true })
    // In flight: a write on the profile's side of the tree, its nodes in no D1 row yet…
    const held = holdNextBatch()
    const inFlight = committer.apply({ writes: [profile('in flight')] })
    await held.sent
    // …and on top of it: a post (its commit reloads the tree), then the profile again and that
    // post deleted (the same record: a second commit, walking nodes only the batch in flight holds).
    const postWrite = prepareCreateOrUpdate('create', { collection: 'app.bsky.feed.post', record: { text: 'on top', createdAt: new Date().toISOString() } })
    const first = committer.apply({ writes: [postWrite] })
    const second = committer.apply({ writes: [profile('on top'), { ...postWrite, action: 'delete', record: undefined }] })
    // Both are built and signed while the batch below is still held.
    await new Promise((r) => setTimeout(r, 100))
    held.pass()
    const [oInFlight, oFirst, oSecond] = await Promise.all([inFlight, first, second])
    if (!oInFlight.ok || !oFirst.ok || !oSecond.ok) throw new Error('a write failed')
    expect(oSecond.commit!.rev > oFirst.commit!.rev).toBe(true)
    expect(await rowOf('SELECT cid FROM record WHERE uri = ?', `at://${did}/app.bsky.actor.profile/self`)).toEqual({ cid: oSecond.results[0]!.cid })
    expect(await rowOf('SELECT cid FROM record WHERE uri = ?', oFirst.results[0]!.uri)).toBeNull()
    expect((await rowOf('SELECT cid FROM repo_root WHERE did = ?', did))!.cid).toBe(oSecond.commit!.cid)
  })

  it('requests queued together share one commit; a refused one stays out, and a second write to the same record starts the next', async () => {
    const { d1, holdNextBatch } = gatedD1()
    const events: CommittedEvent[] = []
    const committer = new Committer(meterD1(d1), DID, 'pipeline.test', () => getSigningKey(KEY), (e) => events.push(...e))
    const existing = prepareCreateOrUpdate('create', { collection: 'app.bsky.feed.post', record: { text: 'exists', createdAt: new Date().toISOString() } })
    await committer.apply({ writes: [existing] })
    const held = holdNextBatch()
    const inFlight = committer.apply(post('in flight'))
    await held.sent
    const announced = events.length
    const profile = (name: string) => ({ writes: [prepareCreateOrUpdate('update', { collection: 'app.bsky.actor.profile', rkey: 'self', record: { displayName: name } })] })
    const a = committer.apply({ writes: [{ ...profile('A').writes[0]!, upsert: true }] })
    const b = committer.apply(post('b'))
    const refused = committer.apply({ writes: [existing] })
    const c = committer.apply({ writes: [{ ...profile('C').writes[0]!, upsert: true }] })
    const d = committer.apply(post('d'))
    held.pass()
    expect((await inFlight).ok).toBe(true)
    const [oa, ob, oRefused, oc, od] = await Promise.all([a, b, refused, c, d])
    expect(oRefused).toMatchObject({ ok: false, error: 'InvalidRequest' })
    if (!oa.ok || !ob.ok || !oc.ok || !od.ok) throw new Error('a write failed')
    expect(ob.commit).toEqual(oa.commit)
    expect(od.commit).toEqual(oc.commit)
    expect(oc.commit!.rev > oa.commit!.rev).toBe(true)
    // Two commits after the one in flight, each one event, with the ops of the requests it holds.
    const next = events.slice(announced + 1).map((e) => decodeFrame(e.frame).body as any)
    expect(next.map((body) => body.commit.toString())).toEqual([oa.commit!.cid, oc.commit!.cid])
    expect(next.map((body) => body.ops.map((op: { action: string; path: string }) => `${op.action} ${op.path.split('/')[0]}`))).toEqual([
      ['create app.bsky.actor.profile', 'create app.bsky.feed.post'],
      ['update app.bsky.actor.profile', 'create app.bsky.feed.post'],
    ])
    expect(await rowOf('SELECT cid FROM record WHERE uri = ?', `at://${DID}/app.bsky.actor.profile/self`)).toEqual({ cid: oc.results[0]!.cid })
    expect((await rowOf('SELECT cid FROM repo_root WHERE did = ?', DID))!.cid).toBe(oc.commit!.cid)
  })
})
