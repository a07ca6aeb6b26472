/** Steps of the standard account migration (PROTOCOL.md "did:plc and moving an account"), with @atproto/api. */
import type { AtpAgent } from '@atproto/api'
import { formatDidKey, SECP256K1_JWT_ALG } from '@atproto/crypto'
import { base58btc } from 'multiformats/bases/base58'

/** The content a long-lived account has: posts, an edit, a delete, images, a like, a profile with an avatar. */
export async function fillOldAccount(agent: AtpAgent, did: string): Promise<void> {
  const avatar = await agent.uploadBlob(png(1), { encoding: 'image/png' })
  await agent.upsertProfile((p) => ({ ...p, displayName: 'Alice', description: 'moving house', avatar: avatar.data.blob }))
  for (let i = 0; i < 5; i++) await agent.post({ text: `post ${i}`, createdAt: new Date().toISOString() })
  const image = await agent.uploadBlob(png(2), { encoding: 'image/png' })
  const withImage = await agent.post({ text: 'a picture', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'px', image: image.data.blob }] } })
  const edited = await agent.post({ text: 'tpyo', createdAt: new Date().toISOString() })
  const rkey = edited.uri.split('/').at(-1)!
  const current = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey })
  await agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey, record: { ...(current.data.value as object), text: 'typo fixed' } })
  await agent.deletePost((await agent.post({ text: 'regret', createdAt: new Date().toISOString() })).uri)
  await agent.like(withImage.uri, withImage.cid)
}

/** Everything a repo holds, read over XRPC: records by URI and blobs by CID. */
export async function snapshot(agent: AtpAgent, did: string) {
  const records = new Map<string, { cid: string; value: unknown }>()
  const { collections } = (await agent.com.atproto.repo.describeRepo({ repo: did })).data
  for (const collection of collections) {
    let cursor: string | undefined
    do {
      const page = (await agent.com.atproto.repo.listRecords({ repo: did, collection, limit: 100, cursor })).data
      for (const r of page.records) records.set(r.uri, { cid: r.cid, value: r.value })
      cursor = page.records.length > 0 ? page.cursor : undefined
    } while (cursor)
  }
  const blobs = new Map<string, Uint8Array>()
  let cursor: string | undefined
  do {
    const page = (await agent.com.atproto.sync.listBlobs({ did, cursor })).data
    for (const cid of page.cids) blobs.set(cid, (await agent.com.atproto.sync.getBlob({ did, cid })).data)
    cursor = page.cids.length > 0 ? page.cursor : undefined
  } while (cursor)
  return { records, blobs }
}

/** Copies every blob the new host says it misses from the old one. */
export async function copyMissingBlobs(from: AtpAgent, to: AtpAgent, did: string): Promise<number> {
  let copied = 0
  let cursor: string | undefined
  do {
    const page = (await to.com.atproto.repo.listMissingBlobs({ cursor, limit: 100 })).data
    for (const { cid } of page.blobs) {
      const blob = await from.com.atproto.sync.getBlob({ did, cid })
      await to.com.atproto.repo.uploadBlob(blob.data, { encoding: blob.headers['content-type'] ?? 'application/octet-stream' })
      copied++
    }
    cursor = page.blobs.length > 0 ? page.cursor : undefined
  } while (cursor)
  return copied
}

/** The email token the reference PDS would have mailed (its loopback helper). */
export async function mailedToken(emailTokens: string, did: string, purpose = 'plc_operation'): Promise<string> {
  const res = await fetch(`${emailTokens}?did=${encodeURIComponent(did)}&purpose=${purpose}`)
  const body = (await res.json()) as { token?: string }
  if (!body.token) throw new Error(`no ${purpose} token for ${did}`)
  return body.token
}

/** A valid PNG (1×1) made distinct by trailing bytes after IEND, which decoders ignore. */
export function png(variant: number): Uint8Array {
  const base = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))
  return new Uint8Array([...base, ...new TextEncoder().encode(`variant ${variant}`)])
}

/** The `#atproto` key of a PLC document as a did:key (a Multikey, or the older secp256k1 rendering). */
export function atprotoKeyOf(doc: { verificationMethod: { id: string; type: string; publicKeyMultibase: string }[] }): string {
  const vm = doc.verificationMethod.find((v) => v.id.endsWith('#atproto'))!
  if (vm.type === 'Multikey') return `did:key:${vm.publicKeyMultibase}`
  if (vm.type !== 'EcdsaSecp256k1VerificationKey2019') throw new Error(`unexpected key type ${vm.type}`)
  return formatDidKey(SECP256K1_JWT_ALG, base58btc.decode(vm.publicKeyMultibase))
}
