import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID, xrpc } from '../../helpers'

const POST = 'app.bsky.feed.post'
const post = (text = 'hi') => ({ $type: POST, text, createdAt: new Date().toISOString() })

async function setup() {
  const agent = await loggedInAgent()
  await agent.post({ text: 'exists', createdAt: new Date().toISOString() })
  return { agent, token: agent.session!.accessJwt }
}

async function state() {
  const root = await env.DB.prepare('SELECT cid, rev FROM repo_root').first()
  const counts = await env.DB.prepare('SELECT (SELECT COUNT(*) FROM record) AS records, (SELECT COUNT(*) FROM repo_event) AS events, (SELECT COUNT(*) FROM repo_block) AS blocks').first()
  return { root, counts }
}

describe('record writes', () => {
  it('answers each write as its lexicon says', async () => {
    const { token } = await setup()
    const created = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: POST, record: post() } })
    expect(created.status).toBe(200)
    expect(created.json).toMatchObject({ uri: expect.stringMatching(/^at:\/\/did:web:pds.test\/app.bsky.feed.post\/[a-z2-7]{13}$/), cid: expect.any(String), commit: { cid: expect.any(String), rev: expect.any(String) }, validationStatus: 'valid' })

    const unknown = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: 'alice.test', collection: 'com.example.thing', rkey: 'a', record: { any: 1 } } })
    expect(unknown.json.validationStatus).toBe('unknown')
    const unvalidated = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: 'com.example.thing', rkey: 'b', validate: false, record: { any: 1 } } })
    expect(unvalidated.json.validationStatus).toBeUndefined()

    const put = await xrpc('com.atproto.repo.putRecord', { token, body: { repo: TEST_DID, collection: 'com.example.thing', rkey: 'a', record: { any: 2 } } })
    expect(put.status).toBe(200)
    expect(put.json.uri).toBe(`at://${TEST_DID}/com.example.thing/a`)
    const got = await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: 'com.example.thing', rkey: 'a' } })
    expect(got.json).toEqual({ uri: put.json.uri, cid: put.json.cid, value: { $type: 'com.example.thing', any: 2 } })
    const stale = await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: 'com.example.thing', rkey: 'a', cid: unknown.json.cid } })
    expect([stale.status, stale.json.error]).toEqual([400, 'RecordNotFound'])

    const applied = await xrpc('com.atproto.repo.applyWrites', {
      token,
      body: {
        repo: TEST_DID,
        writes: [
          { $type: 'com.atproto.repo.applyWrites#create', collection: POST, rkey: '3kabcdefghij2', value: post('batch') },
          { $type: 'com.atproto.repo.applyWrites#update', collection: 'com.example.thing', rkey: 'a', value: { any: 3 } },
          { $type: 'com.atproto.repo.applyWrites#delete', collection: 'com.example.thing', rkey: 'b' },
        ],
      },
    })
    expect(applied.status, applied.text).toBe(200)
    expect(applied.json.results.map((r: any) => r.$type)).toEqual([
      'com.atproto.repo.applyWrites#createResult',
      'com.atproto.repo.applyWrites#updateResult',
      'com.atproto.repo.applyWrites#deleteResult',
    ])
    expect(applied.json.results[0]).toMatchObject({ uri: `at://${TEST_DID}/${POST}/3kabcdefghij2`, validationStatus: 'valid' })

    const deleted = await xrpc('com.atproto.repo.deleteRecord', { token, body: { repo: TEST_DID, collection: POST, rkey: '3kabcdefghij2' } })
    expect(deleted.json.commit).toBeDefined()
    const gone = await xrpc('com.atproto.repo.deleteRecord', { token, body: { repo: TEST_DID, collection: POST, rkey: '3kabcdefghij2' } })
    expect([gone.status, gone.json]).toEqual([200, {}])
  })

  it('converts $link and $bytes to CBOR links and bytes and back', async () => {
    const { token } = await setup()
    const record = { $type: 'com.example.typed', link: { $link: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, bytes: { $bytes: 'AAECAwQ' }, nested: [{ n: 1 }] }
    const res = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: 'com.example.typed', rkey: 'x', record } })
    expect(res.status, res.text).toBe(200)
    const got = await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: 'com.example.typed', rkey: 'x' } })
    expect(got.json.value).toEqual(record)
    const row = await env.DB.prepare('SELECT content FROM repo_block WHERE cid = ?').bind(res.json.cid).first<{ content: number[] }>()
    const bytes = new Uint8Array(row!.content)
    // CBOR tag 42 (0xd8 0x2a) marks a real CID link; 0x45 starts a 5-byte byte string.
    expect(Array.from(bytes).some((b, i) => b === 0xd8 && bytes[i + 1] === 0x2a)).toBe(true)
    expect(Array.from(bytes).some((b, i) => b === 0x45 && bytes[i + 1] === 0 && bytes[i + 5] === 4)).toBe(true)
  })

  it('refuses bad input with a clear 400 and writes nothing', async () => {
    const { token } = await setup()
    const head = await xrpc('com.atproto.sync.getLatestCommit', { params: { did: TEST_DID } })
    await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: POST, rkey: '3kexistingrc2', record: post() } })
    const existing = await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: POST, rkey: '3kexistingrc2' } })
    const before = await state()
    const missingBlob = { ...post(), embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: { $type: 'blob', ref: { $link: 'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy' }, mimeType: 'image/png', size: 10 } }] } }
    const cases: [string, string, unknown, number, string][] = [
      ['bad collection', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: 'not an nsid', record: post() }, 400, 'InvalidRequest'],
      ['bad rkey', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: 'com.example.thing', rkey: 'bad/key', record: {} }, 400, 'InvalidRequest'],
      ['$type mismatch', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: POST, record: { ...post(), $type: 'app.bsky.feed.like' } }, 400, 'InvalidRecord'],
      ['invalid known record', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: POST, record: { $type: POST, text: 5 } }, 400, 'InvalidRecord'],
      ['unknown lexicon with validate', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: 'com.example.thing', validate: true, record: {} }, 400, 'InvalidRecord'],
      ['profile rkey must be self', 'com.atproto.repo.putRecord', { repo: TEST_DID, collection: 'app.bsky.actor.profile', rkey: 'other', record: { $type: 'app.bsky.actor.profile' } }, 400, 'InvalidRecord'],
      ['another repo', 'com.atproto.repo.createRecord', { repo: 'did:web:other.test', collection: POST, record: post() }, 400, 'InvalidRequest'],
      ['record not an object', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: POST, record: 'text' }, 400, 'InvalidRequest'],
      ['create over existing', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: POST, rkey: '3kexistingrc2', record: post() }, 400, 'InvalidRequest'],
      ['stale swapCommit', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: POST, swapCommit: head.json.cid, record: post() }, 400, 'InvalidSwap'],
      ['stale swapRecord on put', 'com.atproto.repo.putRecord', { repo: TEST_DID, collection: POST, rkey: '3kexistingrc2', swapRecord: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm', record: post() }, 400, 'InvalidSwap'],
      ['swapRecord null on existing', 'com.atproto.repo.putRecord', { repo: TEST_DID, collection: POST, rkey: '3kexistingrc2', swapRecord: null, record: post() }, 400, 'InvalidSwap'],
      ['stale swapRecord on delete', 'com.atproto.repo.deleteRecord', { repo: TEST_DID, collection: POST, rkey: '3kexistingrc2', swapRecord: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, 400, 'InvalidSwap'],
      ['blob never uploaded', 'com.atproto.repo.createRecord', { repo: TEST_DID, collection: POST, record: missingBlob }, 400, 'BlobNotFound'],
      ['unknown write type', 'com.atproto.repo.applyWrites', { repo: TEST_DID, writes: [{ $type: 'com.atproto.repo.applyWrites#upsert', collection: POST, rkey: 'x' }] }, 400, 'InvalidRequest'],
      ['two writes to one record', 'com.atproto.repo.applyWrites', { repo: TEST_DID, writes: [{ $type: 'com.atproto.repo.applyWrites#create', collection: 'com.example.thing', rkey: 'dup', value: {} }, { $type: 'com.atproto.repo.applyWrites#delete', collection: 'com.example.thing', rkey: 'dup' }] }, 400, 'InvalidRequest'],
      ['update of a missing record', 'com.atproto.repo.applyWrites', { repo: TEST_DID, writes: [{ $type: 'com.atproto.repo.applyWrites#update', collection: 'com.example.thing', rkey: 'nope', value: {} }] }, 400, 'InvalidRequest'],
      ['too many writes', 'com.atproto.repo.applyWrites', { repo: TEST_DID, writes: Array.from({ length: 201 }, (_, i) => ({ $type: 'com.atproto.repo.applyWrites#delete', collection: 'com.example.thing', rkey: `r${i}` })) }, 400, 'InvalidRequest'],
    ]
    for (const [name, nsid, body, status, error] of cases) {
      const res = await xrpc(nsid, { token, body })
      expect([name, res.status, res.json?.error], res.text).toEqual([name, status, error])
      expect(typeof res.json.message).toBe('string')
    }
    const big = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: 'com.example.thing', record: { blob: 'x'.repeat(200_000) } } })
    expect([big.status, big.json.error]).toEqual([413, 'PayloadTooLarge'])
    const anon = await xrpc('com.atproto.repo.createRecord', { body: { repo: TEST_DID, collection: POST, record: post() } })
    expect([anon.status, anon.json.error]).toEqual([401, 'AuthMissing'])

    expect(await state()).toEqual(before)
    const still = await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: POST, rkey: '3kexistingrc2' } })
    expect(still.json).toEqual(existing.json)
  })
})
