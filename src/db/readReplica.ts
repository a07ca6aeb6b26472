/** What the record reads need of D1: a database or a Sessions API session both do. */
export type D1Reader = Pick<D1Database, 'prepare' | 'batch'>

/**
 * Where a public record read goes. With D1 read replication on
 * (D1_READ_REPLICAS=true), an anonymous read is served by the nearest
 * replica, which may trail the primary by a moment. That cannot break
 * read-your-writes: the account's own clients send their token, so they read
 * the primary, which has every write the actor acknowledged; and sync.*
 * (relays, following the firehose) never use this, so an export is never
 * older than the events that announced it.
 */
export function recordReader(d1: D1Database, replicas: boolean, req: Request): D1Reader {
  if (!replicas || req.headers.has('authorization')) return d1
  return d1.withSession('first-unconstrained')
}
