import { getHandle, handleUpsert, statusUpdate } from '../src/db/accounts'
import { getBlock } from '../src/db/blocks'
import { encodeMessageFrame } from '../src/firehose/frames'
import { carBytes } from '../src/repo/car'
import type { EventJob } from './commitTypes'

/**
 * The account-level changes the actor sequences: each is the D1 statements
 * and the firehose events that announce it, built for the next free seqs.
 */

/** A new handle: the account row and an #identity event. */
export function handleChange(d1: D1Database, did: string, handle: string): EventJob['build'] {
  return async (seq) => {
    const now = Date.now()
    return {
      statements: [
        handleUpsert(d1, did, handle),
      ],
      events: [{ seq, type: 'identity', frame: encodeMessageFrame('#identity', { seq, did, time: new Date(now).toISOString(), handle }), time: now }],
    }
  }
}

/** An #identity event with the current handle, after the DID document changed (a PLC operation). */
export function identityRefresh(d1: D1Database, did: string): EventJob['build'] {
  return async (seq) => {
    const now = Date.now()
    const handle = await getHandle(d1, did)
    const frame = encodeMessageFrame('#identity', { seq, did, time: new Date(now).toISOString(), ...(handle ? { handle } : {}) })
    return { statements: [], events: [{ seq, type: 'identity', frame, time: now }] }
  }
}

/**
 * Deactivation or reactivation: the account row and an #account event; on
 * reactivation #identity first (the DID document may have just moved here,
 * as after a migration) and a #sync with the signed head after, so relays
 * that dropped or never had the repo sync from it (account lifecycle guidance).
 */
export function statusChange(d1: D1Database, did: string, active: boolean): EventJob['build'] {
  return async (firstSeq, head) => {
    // Already so: nothing to announce (relays would see a needless #account and #sync).
    if (head.active === active) return { statements: [], events: [] }
    const now = Date.now()
    const time = new Date(now).toISOString()
    const status = active ? null : 'deactivated'
    const events = []
    let seq = firstSeq
    if (active) {
      const handle = await getHandle(d1, did)
      events.push({ seq, type: 'identity', frame: encodeMessageFrame('#identity', { seq, did, time, ...(handle ? { handle } : {}) }), time: now })
      seq++
    }
    events.push({ seq, type: 'account', frame: encodeMessageFrame('#account', { seq, did, time, active, ...(status ? { status } : {}) }), time: now })
    if (active) {
      const commit = await getBlock(d1, did, head.cid)
      if (!commit) throw new Error(`head commit ${head.cid} is missing from repo_block`)
      const blocks = carBytes(head.cid, [{ cid: head.cid, bytes: commit }])
      events.push({ seq: seq + 1, type: 'sync', frame: encodeMessageFrame('#sync', { seq: seq + 1, did, blocks, rev: head.rev, time }), time: now })
    }
    return {
      statements: [statusUpdate(d1, did, active, status)],
      events,
      active,
    }
  }
}
