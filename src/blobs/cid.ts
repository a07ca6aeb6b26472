import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'

/** A blob's CID: v1, `raw` codec (0x55), sha-256 (atproto data model spec). */
export function blobCid(sha256Digest: Uint8Array): CID {
  return CID.createV1(raw.code, Digest.create(sha256.code, sha256Digest))
}

/**
 * Parses a CID from text; `null` when it is not a CID at all. A well-formed CID
 * of another codec is returned as is: it simply names no blob.
 */
export function parseCid(text: string): CID | null {
  try {
    return CID.parse(text)
  } catch {
    return null
  }
}
