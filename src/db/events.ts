/** The firehose log (`repo_event`): appended in the actor's batches, read by replays, pruned by age. */
import { fromHex, toHex } from '../lib/hex'
import { chunks, MAX_PARAMS } from './statements'

export interface EventRow {
  seq: number
  type: string
  frame: Uint8Array
  time: number
}

/** seq is the primary key: a second writer minting the same seq fails the whole batch. */
export function eventStatements(d1: D1Database, did: string, events: EventRow[]): D1PreparedStatement[] {
  return chunks(events, (e) => 2 * e.frame.byteLength, Math.floor((MAX_PARAMS - 1) / 4)).map((rows) =>
    d1
      .prepare(
        `INSERT INTO repo_event (did, seq, type, frame, sequenced_at) VALUES ${rows.map((_, i) => `(?1, ?${i * 4 + 2}, ?${i * 4 + 3}, unhex(?${i * 4 + 4}), ?${i * 4 + 5})`).join(', ')}`,
      )
      .bind(did, ...rows.flatMap((e) => [e.seq, e.type, toHex(e.frame), e.time])),
  )
}

/** Events after `seq`, in order, at most `limit` of them. */
export async function eventsAfter(d1: D1Database, seq: number, limit: number): Promise<{ seq: number; frame: Uint8Array }[]> {
  const { results } = await d1
    .prepare('SELECT seq, hex(frame) AS frame FROM repo_event WHERE seq > ? ORDER BY seq LIMIT ?')
    .bind(seq, limit)
    .all<{ seq: number; frame: string }>()
  return results.map((r) => ({ seq: r.seq, frame: fromHex(r.frame) }))
}

/**
 * Deletes events sequenced before `before`, never the newest (its seq is where
 * the sequence resumes after a restart). Returns how many went.
 */
export async function pruneEvents(d1: D1Database, before: number): Promise<number> {
  const res = await d1.prepare('DELETE FROM repo_event WHERE sequenced_at < ? AND seq < (SELECT MAX(seq) FROM repo_event)').bind(before).run()
  return res.meta.changes ?? 0
}
