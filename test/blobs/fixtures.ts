import { env } from 'cloudflare:workers'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { TEST_DID, TEST_HANDLE, TEST_PASSWORD, worker, xrpc, xrpcUrl } from '../helpers'

const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))

/** Real 2×2 orange images, encoded by libvips (sharp) and decodable by any image library. */
export const PNG = fromBase64('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAFElEQVQImWP438Dwv4EBhP83MAAALe4F/d+j5C4AAAAASUVORK5CYII=')
export const JPEG = fromBase64(
  '/9j/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAACAAIDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAAB//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AL4AeKr/2Q==',
)

/** The CID multiformats computes for these bytes: CIDv1, raw, sha-256. */
export async function expectedCid(bytes: Uint8Array): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(bytes)).toString()
}

/** Distinct, incompressible bytes (getRandomValues fills at most 64 KiB per call). */
export function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(i + 65536, size)))
  return bytes
}

let session: { token: string } | undefined

async function token(): Promise<string> {
  session ??= { token: (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD } })).json.accessJwt }
  return session.token
}

/**
 * Makes a post reference an uploaded blob through the real write path
 * (createRecord: the actor checks the blob and its commit writes the
 * `record` and `record_blob` rows). Returns the post's URI and its commit's rev.
 */
export async function referenceBlob(cid: string, opts: { rkey?: string } = {}): Promise<{ uri: string; rev: string }> {
  const blob = await env.DB.prepare('SELECT mime_type, size FROM blob WHERE did = ? AND cid = ?').bind(TEST_DID, cid).first<{ mime_type: string; size: number }>()
  if (!blob) throw new Error(`referenceBlob: ${cid} was not uploaded`)
  const record = {
    $type: 'app.bsky.feed.post',
    text: 'with a blob',
    createdAt: new Date().toISOString(),
    embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: { $type: 'blob', ref: { $link: cid }, mimeType: blob.mime_type, size: blob.size } }] },
  }
  const res = await xrpc('com.atproto.repo.createRecord', { token: await token(), body: { repo: TEST_DID, collection: 'app.bsky.feed.post', ...(opts.rkey ? { rkey: opts.rkey } : {}), record } })
  if (res.status !== 200) throw new Error(`referenceBlob: ${res.status} ${res.text}`)
  return { uri: res.json.uri, rev: res.json.commit.rev }
}

/** Uploads bytes with uploadBlob; returns the CID. */
export async function uploadBlob(bytes: Uint8Array, mimeType = 'application/octet-stream'): Promise<string> {
  const res = await worker.fetch(xrpcUrl('com.atproto.repo.uploadBlob'), { method: 'POST', headers: { authorization: `Bearer ${await token()}`, 'content-type': mimeType }, body: bytes })
  const json = (await res.json()) as { blob: { ref: { $link: string } } }
  if (res.status !== 200) throw new Error(`uploadBlob: ${res.status} ${JSON.stringify(json)}`)
  return json.blob.ref.$link
}

/** Deletes the post, through the real write path: its references go with it. */
export async function dereference(uri: string): Promise<void> {
  const [, , , collection, rkey] = uri.split('/')
  const res = await xrpc('com.atproto.repo.deleteRecord', { token: await token(), body: { repo: TEST_DID, collection, rkey } })
  if (res.status !== 200) throw new Error(`dereference: ${res.status} ${res.text}`)
}

export async function blobRows(): Promise<{ did: string; cid: string; mime_type: string; size: number; created_at: number }[]> {
  return (await env.DB.prepare('SELECT * FROM blob ORDER BY cid').all<any>()).results
}

export async function r2Keys(): Promise<string[]> {
  const keys: string[] = []
  let cursor: string | undefined
  do {
    const page = await env.BLOBS.list({ cursor })
    keys.push(...page.objects.map((o) => o.key))
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return keys.sort()
}
