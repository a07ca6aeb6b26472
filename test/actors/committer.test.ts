/**
 * The Committer over the real local D1, wrapped so a batch can fail the way
 * a network does: D1 applies it, and the answer is lost.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import type { CommittedEvent } from '../../actors/commitTypes'
import { Committer } from '../../actors/committer'
import { readConfig } from '../../src/env'
import { getSigningKey } from '../../src/identity/signingKey'
import { prepareCreateOrUpdate } from '../../src/repo/prepareWrites'

type Fault = 'applied-then-throw' | 'throw-before' | 'throw-and-unreadable' | null

/** Real D1 with one injectable fault on the next batch. */
function faultyD1(real: D1Database) {
  const control = { fault: null as Fault, unreadable: false }
  const d1 = new Proxy(real, {
    get(target, prop) {
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          const fault = control.fault
          control.fault = null
          if (control.unreadable) throw new Error('D1 unreachable')
          if (fault === 'throw-before') throw new Error('D1_ERROR: network connection lost')
          const result = await target.batch(statements)
          if (fault === 'applied-then-throw') throw new Error('D1_ERROR: network connection lost')
          if (fault === 'throw-and-unreadable') {
            control.unreadable = true
            throw new Error('D1_ERROR: network connection lost')
          }
          return result
        }
      }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { d1, control }
}

function setup() {
  const config = readConfig(env)
  const { d1, control } = faultyD1(env.DB)
  const emitted: CommittedEvent[] = []
  const committer = new Committer(d1, config.did, config.handle, () => getSigningKey(config.signingKeyHex), (events) => emitted.push(...events))
  return { config, committer, control, emitted }
}

const post = (text: string) => prepareCreateOrUpdate('create', { collection: 'app.bsky.feed.post', record: { text, createdAt: new Date().toISOString() } })

async function rows() {
  const records = await env.DB.prepare('SELECT COUNT(*) AS n FROM record').first<number>('n')
  const root = await env.DB.prepare('SELECT cid FROM repo_root').first<string>('cid')
  const seq = await env.DB.prepare('SELECT MAX(seq) AS seq FROM repo_event').first<number>('seq')
  return { records, root, seq }
}

describe('a commit batch that fails', () => {
  it('answers with the commit when D1 applied the batch but the answer was lost, and broadcasts it once', async () => {
    const { committer, control, emitted } = setup()
    await committer.head()
    const before = await rows()
    control.fault = 'applied-then-throw'
    const outcome = await committer.apply({ writes: [post('landed')] })
    const after = await rows()
    expect(after.records).toBe(before.records! + 1)
    expect(outcome.ok).toBe(true)
    if (!outcome.ok) return
    expect(outcome.commit?.cid).toBe(after.root)
    expect(emitted.map((e) => e.seq).filter((s) => s > before.seq!)).toEqual([after.seq])
    // The next write builds on it: no fork, no duplicate seq.
    const next = await committer.apply({ writes: [post('after')] })
    expect(next.ok).toBe(true)
    expect((await rows()).seq).toBe(after.seq! + 1)
  })

  it('says nothing was written when D1 does not have the batch, and the next write succeeds', async () => {
    const { committer, control } = setup()
    await committer.head()
    const before = await rows()
    control.fault = 'throw-before'
    await expect(committer.apply({ writes: [post('lost')] })).rejects.toThrow('nothing was written')
    expect(await rows()).toEqual(before)
    expect((await committer.apply({ writes: [post('retry')] })).ok).toBe(true)
  })

  it('answers CommitOutcomeUnknown, not "nothing was written", when D1 cannot be read afterwards', async () => {
    const { committer, control } = setup()
    await committer.head()
    control.fault = 'throw-and-unreadable'
    // The batch is applied, then D1 goes away: the committer cannot tell.
    const outcome = await committer.apply({ writes: [post('maybe')] })
    expect(outcome).toMatchObject({ ok: false, status: 500, error: 'CommitOutcomeUnknown' })
  })
})
