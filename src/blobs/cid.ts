import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'

/** A blob's CID: v1, `raw` codec (0x55), sha-256 (atproto data model spec). */
export function blobCid(sha256Digest: Uint8Array): CID {
  return CID.createV1(raw.code, Digest.create(sha256.code, sha256Digest))
}
