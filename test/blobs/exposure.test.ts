import { describe, expect, it } from 'vitest'
import { PNG } from './fixtures'
import { loggedInAgent, TEST_DID, worker, xrpcUrl } from '../helpers'

type Agent = Awaited<ReturnType<typeof loggedInAgent>>

/** Uploads bytes and references them from a real record, through the commit path. */
async function committedBlob(agent: Agent, bytes: Uint8Array, encoding: string): Promise<string> {
  const { data } = await agent.uploadBlob(bytes, { encoding })
  await agent.com.atproto.repo.createRecord({ repo: TEST_DID, collection: 'com.example.attachment', record: { $type: 'com.example.attachment', file: data.blob } })
  return data.blob.ref.toString()
}

const getBlob = (cid: string) => worker.fetch(xrpcUrl('com.atproto.sync.getBlob', { did: TEST_DID, cid }))
const getPlain = (cid: string) => worker.fetch(`https://pds.test/blobs/${cid}`)

describe('what blobs are served, and how', () => {
  it('sends documents and scripts as attachments, keeping the sandbox; plain media stays inline', async () => {
    const agent = await loggedInAgent()
    const documents: [string, string][] = [
      ['text/html', '<html><body><script>alert(document.domain)</script></body></html>'],
      ['image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
      ['application/javascript', 'alert(document.cookie)'],
      ['application/xhtml+xml', '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'],
    ]
    for (const [type, text] of documents) {
      const cid = await committedBlob(agent, new TextEncoder().encode(`${text}<!--${crypto.randomUUID()}-->`), type)
      for (const res of [await getBlob(cid), await getPlain(cid)]) {
        await res.arrayBuffer()
        expect([type, res.status, res.headers.get('content-disposition')]).toEqual([type, 200, `attachment; filename="${cid}"`])
        expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox")
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      }
    }
    const png = await committedBlob(agent, PNG, 'image/png')
    for (const res of [await getBlob(png), await getPlain(png)]) {
      await res.arrayBuffer()
      expect([res.status, res.headers.get('content-type'), res.headers.get('content-disposition')]).toEqual([200, 'image/png', null])
    }
  })

  it('serves nothing, by getBlob or /blobs/:cid, while the account is deactivated, and serves again once it is active', async () => {
    const agent = await loggedInAgent()
    const cid = await committedBlob(agent, PNG, 'image/png')
    expect((await getPlain(cid)).status).toBe(200)

    await agent.com.atproto.server.deactivateAccount({})
    for (const res of [await getBlob(cid), await getPlain(cid)]) {
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ error: 'RepoDeactivated', message: `Repo has been deactivated: ${TEST_DID}` })
    }

    await agent.com.atproto.server.activateAccount()
    const again = await getPlain(cid)
    expect(again.status).toBe(200)
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(PNG)
  })
})
