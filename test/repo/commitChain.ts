import { cidForRecord, WriteOpAction, type CommitData, type RecordWriteOp } from '@atproto/repo'
import { carBytes } from '../../src/repo/car'

/**
 * The ops a relay sees for `writes` (create, update with its prev, delete with
 * its prev), as the firehose carries them; `live` (rkey → record CID) is the
 * repo before the writes and is moved past them.
 */
export async function relayOps(writes: RecordWriteOp[], live: Map<string, unknown>) {
  const ops = []
  for (const w of writes) {
    const path = `${w.collection}/${w.rkey}`
    const cid = w.action === WriteOpAction.Delete ? null : await cidForRecord(w.record)
    const prev = live.get(w.rkey) as never
    ops.push(w.action === WriteOpAction.Create ? { action: 'create', path, cid } : w.action === WriteOpAction.Update ? { action: 'update', path, cid, prev } : { action: 'delete', path, cid: null, prev })
    if (cid) live.set(w.rkey, cid)
    else live.delete(w.rkey)
  }
  return ops
}

/** The commit's proof blocks as a firehose frame's CAR. */
export function proofCar(commit: CommitData): Uint8Array {
  return carBytes(commit.cid, [...commit.relevantBlocks].map(([cid, bytes]) => ({ cid, bytes })))
}
