import { getRecordsSinceRev } from '../db/recordsSinceRev'
import { recordToJson } from '../repo/recordJson'

export interface LocalRecord {
  uri: string
  cid: string
  /** ISO time the record was written here: where it sorts among the AppView's posts. */
  indexedAt: string
  record: Record<string, any>
}

/** What the account wrote after the AppView's rev that the app shows: its profile and its posts. */
export interface LocalRecords {
  count: number
  profile: LocalRecord | null
  /** Oldest first. */
  posts: LocalRecord[]
}

export async function readLocalRecords(d1: D1Database, did: string, rev: string): Promise<LocalRecords> {
  const out: LocalRecords = { count: 0, profile: null, posts: [] }
  for (const row of await getRecordsSinceRev(d1, did, rev)) {
    out.count++
    const local = { uri: row.uri, cid: row.cid, indexedAt: new Date(row.indexedAt).toISOString(), record: recordToJson(row.content) as Record<string, any> }
    if (row.uri === `at://${did}/app.bsky.actor.profile/self`) out.profile = local
    else if (row.uri.startsWith(`at://${did}/app.bsky.feed.post/`)) out.posts.push(local)
  }
  return out
}

/** How far behind the AppView is: the age of the oldest local record it has not shown (Atproto-Upstream-Lag, ms). */
export function localLag(local: LocalRecords): number | undefined {
  const times = [local.profile, ...local.posts].filter((r) => r !== null).map((r) => Date.parse(r.indexedAt))
  return times.length ? Date.now() - Math.min(...times) : undefined
}
