import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { recordReader } from '../../src/db/readReplica'
import { listRecords } from '../../src/db/records'
import { loggedInAgent, TEST_DID } from '../helpers'

describe('record reads with D1 read replication on', () => {
  it('anonymous reads go through a Sessions API session; the account’s own (authenticated) reads go to the primary', async () => {
    const agent = await loggedInAgent()
    await agent.post({ text: 'replicated', createdAt: new Date().toISOString() })
    const anonymous = recordReader(env.DB, true, new Request('https://pds.test/'))
    const own = recordReader(env.DB, true, new Request('https://pds.test/', { headers: { authorization: 'Bearer x' } }))
    expect(anonymous).not.toBe(env.DB)
    expect(typeof (anonymous as D1DatabaseSession).getBookmark).toBe('function')
    expect(own).toBe(env.DB)
    expect(recordReader(env.DB, false, new Request('https://pds.test/'))).toBe(env.DB)
    const [viaSession, viaPrimary] = await Promise.all([listRecords(anonymous, TEST_DID, 'app.bsky.feed.post', { limit: 10, reverse: false }), listRecords(own, TEST_DID, 'app.bsky.feed.post', { limit: 10, reverse: false })])
    expect(viaSession.map((r) => r.uri)).toEqual(viaPrimary.map((r) => r.uri))
    expect(viaSession).toHaveLength(1)
  })
})
