import { env } from 'cloudflare:workers'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { TEST_DID } from '../helpers'

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

/**
 * Makes a record reference a blob the way a commit will: until the commit path
 * writes `record_blob` (and `record`) rows itself, tests insert them directly.
 */
export async function referenceBlob(cid: string, opts: { rkey?: string; rev?: string; did?: string } = {}): Promise<string> {
  const did = opts.did ?? TEST_DID
  const rkey = opts.rkey ?? crypto.randomUUID().replace(/-/g, '').slice(0, 13)
  const uri = `at://${did}/app.bsky.feed.post/${rkey}`
  await env.DB.batch([
    env.DB.prepare('INSERT OR REPLACE INTO record (uri, did, collection, rkey, cid, repo_rev, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?)').bind(
      uri,
      did,
      'app.bsky.feed.post',
      rkey,
      'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
      opts.rev ?? '3l22222222a22',
      Date.now(),
    ),
    env.DB.prepare('INSERT INTO record_blob (did, blob_cid, record_uri) VALUES (?, ?, ?)').bind(did, cid, uri),
  ])
  return uri
}

/** Drops a record's references, as deleting the record will. */
export async function dereference(uri: string): Promise<void> {
  await env.DB.batch([env.DB.prepare('DELETE FROM record_blob WHERE record_uri = ?').bind(uri), env.DB.prepare('DELETE FROM record WHERE uri = ?').bind(uri)])
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
