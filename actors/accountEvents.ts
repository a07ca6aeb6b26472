import { encodeMessageFrame } from '../src/firehose/frames'
import { carBytes } from '../src/repo/car'
import type { EventJob } from './committer'

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
        d1.prepare('INSERT INTO account (did, handle, active, created_at) VALUES (?1, ?2, 1, ?3) ON CONFLICT (did) DO UPDATE SET handle = excluded.handle').bind(did, handle, now),
      ],
      events: [{ seq, type: 'identity', frame: encodeMessageFrame('#identity', { seq, did, time: new Date(now).toISOString(), handle }), time: now }],
    }
  }
}

/**
 * Deactivation or reactivation: the account row and an #account event; on
 * reactivation also a #sync with the signed head, so relays that dropped the
 * repo re-sync from it (account lifecycle guidance).
 */
export function statusChange(d1: D1Database, did: string, active: boolean): EventJob['build'] {
  return async (seq, head) => {
    const now = Date.now()
    const time = new Date(now).toISOString()
    const status = active ? null : 'deactivated'
    const events = [{ seq, type: 'account', frame: encodeMessageFrame('#account', { seq, did, time, active, ...(status ? { status } : {}) }), time: now }]
    if (active) {
      const commit = await d1.prepare('SELECT content FROM repo_block WHERE did = ? AND cid = ?').bind(did, head.cid).first<{ content: ArrayBuffer | number[] }>()
      if (!commit) throw new Error(`head commit ${head.cid} is missing from repo_block`)
      const blocks = carBytes(head.cid, [{ cid: head.cid, bytes: new Uint8Array(commit.content) }])
      events.push({ seq: seq + 1, type: 'sync', frame: encodeMessageFrame('#sync', { seq: seq + 1, did, blocks, rev: head.rev, time }), time: now })
    }
    return {
      statements: [d1.prepare('UPDATE account SET active = ?, status = ? WHERE did = ?').bind(active ? 1 : 0, status, did)],
      events,
      active,
    }
  }
}
