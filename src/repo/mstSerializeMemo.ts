import { MST } from '@atproto/repo'

/**
 * `@atproto/repo` re-encodes and re-hashes an MST node every time it is
 * serialized, and a commit's covering proofs (the blocks a firehose frame
 * carries) serialize every node on three paths per write: an applyWrites of 50
 * records spent ~30 ms of its ~35 ms MST work there. An MST node is immutable
 * once its pointer is current (every change makes a new node), so its
 * encoding is remembered per node, from the first time it is serialized.
 * Installed once, by importing this module.
 */
const encoded = new WeakMap<MST, ReturnType<MST['serialize']>>()
const serialize = MST.prototype.serialize

MST.prototype.serialize = function (this: MST) {
  // A node is remembered once its pointer is current, i.e. its own encoding has been settled.
  if (this.outdatedPointer) return serialize.call(this)
  let pending = encoded.get(this)
  if (!pending) {
    pending = serialize.call(this)
    encoded.set(this, pending)
    pending.catch(() => encoded.delete(this))
  }
  return pending
}
