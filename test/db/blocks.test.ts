import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { repoBlocks } from '../../src/db/blocks'
import { loggedInAgent, TEST_DID } from '../helpers'

async function collect(since?: string, pageSize?: number) {
  const out: string[] = []
  for await (const b of repoBlocks(env.DB, TEST_DID, since, pageSize)) out.push(b.cid)
  return out
}

describe('repoBlocks paging', () => {
  it('returns every block once across small pages, with and without since', async () => {
    const agent = await loggedInAgent()
    const revs: string[] = []
    for (let i = 0; i < 6; i++) {
      await agent.post({ text: `p${i}`, createdAt: new Date().toISOString() })
      revs.push((await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data.rev)
    }
    const { results } = await env.DB.prepare('SELECT cid, repo_rev FROM repo_block').all<{ cid: string; repo_rev: string }>()
    expect((await collect(undefined, 3)).sort()).toEqual(results.map((r) => r.cid).sort())
    for (const since of [revs[0]!, revs[3]!]) {
      const expected = results.filter((r) => r.repo_rev > since).map((r) => r.cid).sort()
      expect(expected.length).toBeGreaterThan(3)
      const got = await collect(since, 2)
      expect(got).toHaveLength(new Set(got).size)
      expect(got.sort()).toEqual(expected)
    }
  })
})
