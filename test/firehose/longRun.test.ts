import { beforeAll, describe, expect, it, vi } from 'vitest'
import { loggedInAgent, xrpc, TEST_DID } from '../helpers'
import { CommitVerifier, didKeyFromDidDoc, FirehoseClient, type Frame } from './consumer'
import { driveWrites } from './writers'

const CLIENTS = 16
const CALLS_PER_CLIENT = 128 // 2,048 requests; queued ones share commits, still several replay pages of 500

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function verifyAll(frames: Frame[], didKey: string) {
  const verifier = new CommitVerifier(didKey)
  const errors: string[] = []
  for (const f of frames) {
    try {
      await verifier.frame(f)
    } catch (err) {
      errors.push((err as Error).message)
    }
  }
  return { verifier, errors }
}

describe('a 2,000-request run with 16 concurrent writers', () => {
  let didKey: string
  let lastSeq: number
  let calls: number
  let writes: number
  let commits: number
  let follower: FirehoseClient
  let before: Frame[]
  let resumedFrom: number
  let resumed: FirehoseClient
  /** Commits and requests per D1 batch, from the actor's `commit` log lines (the actor runs in this isolate). */
  const groups: { commits: number; requests: number }[] = []

  beforeAll(async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    didKey = await didKeyFromDidDoc()
    follower = await FirehoseClient.connect(0)
    const interrupted = await FirehoseClient.connect(0)
    await Promise.all([follower, interrupted].map((c) => c.until((f) => f.length >= 3)))

    const logSpy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      if (typeof line === 'string' && line.includes('"msg":"commit"')) groups.push(JSON.parse(line))
    })
    const writers = Promise.all(range(1, CLIENTS).map((c) => driveWrites(token, c, CALLS_PER_CLIENT)))
    // Mid-run, one consumer drops and resumes from the last seq it saw, while the writers keep going.
    await Promise.race([interrupted.until((f) => f.length >= 300, 60_000), writers.then(() => Promise.reject(new Error('writes ended before the reconnect')))])
    interrupted.close()
    before = [...interrupted.frames]
    resumedFrom = before.at(-1)!.body.seq
    resumed = await FirehoseClient.connect(resumedFrom)

    const done = await writers
    calls = done.reduce((n, d) => n + d.calls, 0)
    writes = done.reduce((n, d) => n + d.writes, 0)
    commits = groups.reduce((n, g) => n + g.commits, 0)
    // Three events at repo creation (#identity, #account, #sync), then one per commit.
    lastSeq = 3 + commits
    logSpy.mockRestore()
    await Promise.all([follower, resumed].map((c) => c.until((f) => f.at(-1)?.body.seq === lastSeq, 60_000)))
  }, 120_000)

  it('takes every request, in commits grouped into batches, past one replay page', () => {
    expect(calls).toBe(CLIENTS * CALLS_PER_CLIENT)
    expect(commits).toBeLessThanOrEqual(calls)
    expect(lastSeq).toBeGreaterThan(500)
    expect(Math.max(...groups.map((g) => g.requests))).toBeGreaterThan(1)
  })

  it('a live follower receives every seq once, in order, and every commit verifies', async () => {
    expect(follower.seqs()).toEqual(range(1, lastSeq))
    const { verifier, errors } = await verifyAll(follower.frames, didKey)
    expect(errors).toEqual([])
    expect(verifier.verified).toBe(commits)
    // Every request's writes are in exactly one commit: the ops add up to the calls' writes.
    const ops = follower.frames.filter((f) => f.header.t === '#commit').reduce((n, f) => n + f.body.ops.length, 0)
    expect(ops).toBe(writes)
    const latest = await xrpc('com.atproto.sync.getLatestCommit', { params: { did: TEST_DID } })
    expect(verifier.lastRev).toBe(latest.json.rev)
    follower.close()
  })

  it('reconnecting with the last seen cursor while writes continue gets every event exactly once', () => {
    expect(resumedFrom).toBeLessThan(lastSeq - 100) // the hand-over really happened mid-run
    const seen = [...before, ...resumed.frames].map((f) => f.body.seq)
    expect(seen).toEqual(range(1, lastSeq))
    resumed.close()
  })

  it('a replay from cursor 0 afterwards delivers all of it (past the 500-row page) and verifies', async () => {
    const replay = await FirehoseClient.connect(0)
    await replay.until((f) => f.at(-1)?.body.seq === lastSeq, 60_000)
    expect(replay.seqs()).toEqual(range(1, lastSeq))
    expect(replay.frames.slice(0, 3).map((f) => f.header.t)).toEqual(['#identity', '#account', '#sync'])
    const { verifier, errors } = await verifyAll(replay.frames, didKey)
    expect(errors).toEqual([])
    expect(verifier.verified).toBe(commits)
    replay.close()
  })
})
