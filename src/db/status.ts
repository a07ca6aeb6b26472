/** What D1 holds for one account, for the owner's status page and `npm run inspect`. */

export interface RepoFigures {
  head: { cid: string; rev: string; indexedAt: number } | null
  records: number
  collections: { collection: string; records: number }[]
  blocks: { count: number; bytes: number }
  blobs: { count: number; bytes: number }
  events: { count: number; bytes: number; latestSeq: number | null; latest: { seq: number; type: string; time: number }[] }
  /** D1's own figure for the whole database file. */
  databaseBytes: number | null
  migrations: { name: string; appliedAt: string }[]
}

const one = <T>(r: D1Result | undefined) => r?.results[0] as T

/** One D1 batch (one round trip) for the figures, then the migrations table wrangler keeps. */
export async function repoFigures(d1: D1Database, did: string, latestEvents = 10): Promise<RepoFigures> {
  const results = await d1.batch([
    d1.prepare('SELECT cid, rev, indexed_at FROM repo_root WHERE did = ?').bind(did),
    d1.prepare('SELECT COUNT(*) AS n FROM record WHERE did = ?').bind(did),
    d1.prepare('SELECT collection, COUNT(*) AS n FROM record WHERE did = ? GROUP BY collection ORDER BY n DESC LIMIT 20').bind(did),
    d1.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM repo_block WHERE did = ?').bind(did),
    d1.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM blob WHERE did = ?').bind(did),
    d1.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(frame)), 0) AS bytes, MAX(seq) AS seq FROM repo_event'),
    d1.prepare('SELECT seq, type, sequenced_at FROM repo_event ORDER BY seq DESC LIMIT ?').bind(latestEvents),
  ])
  const [root, records, collections, blocks, blobs, events, latest] = results
  const head = one<{ cid: string; rev: string; indexed_at: number } | undefined>(root)
  const ev = one<{ n: number; bytes: number; seq: number | null }>(events)
  return {
    head: head ? { cid: head.cid, rev: head.rev, indexedAt: head.indexed_at } : null,
    records: one<{ n: number }>(records).n,
    collections: (collections!.results as { collection: string; n: number }[]).map((r) => ({ collection: r.collection, records: r.n })),
    blocks: { count: one<{ n: number }>(blocks).n, bytes: one<{ bytes: number }>(blocks).bytes },
    blobs: { count: one<{ n: number }>(blobs).n, bytes: one<{ bytes: number }>(blobs).bytes },
    events: {
      count: ev.n,
      bytes: ev.bytes,
      latestSeq: ev.seq,
      latest: (latest!.results as { seq: number; type: string; sequenced_at: number }[]).map((r) => ({ seq: r.seq, type: r.type, time: r.sequenced_at })),
    },
    databaseBytes: (latest!.meta as { size_after?: number }).size_after ?? null,
    migrations: await appliedMigrations(d1),
  }
}

/** `wrangler d1 migrations apply` records each file in d1_migrations; absent before the first apply. */
async function appliedMigrations(d1: D1Database): Promise<RepoFigures['migrations']> {
  try {
    const { results } = await d1.prepare('SELECT name, applied_at FROM d1_migrations ORDER BY id').all<{ name: string; applied_at: string }>()
    return results.map((r) => ({ name: r.name, appliedAt: r.applied_at }))
  } catch {
    return []
  }
}
