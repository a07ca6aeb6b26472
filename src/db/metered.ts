import { currentCost, timed } from '../lib/cost'

/**
 * A D1 binding that adds each round trip to the current cost scope
 * (src/lib/cost.ts): one per query or batch, with its statements and the rows
 * D1 reports reading and writing. Everything else passes through, so Drizzle
 * and raw SQL both run on it unchanged.
 */
export function meterD1(d1: D1Database): D1Database {
  const hit = metered.get(d1)
  if (hit) return hit
  const wrapped = new MeteredD1(d1) as unknown as D1Database
  metered.set(d1, wrapped)
  return wrapped
}

const metered = new WeakMap<object, D1Database>()

type Meta = { rows_read?: number; rows_written?: number } | undefined

function count(statements: number, metas: Meta[] | null): void {
  const cost = currentCost()
  if (!cost) return
  cost.d1++
  cost.statements += statements
  if (!metas) {
    cost.unmetered += statements
    return
  }
  for (const meta of metas) {
    cost.rowsRead += meta?.rows_read ?? 0
    cost.rowsWritten += meta?.rows_written ?? 0
  }
}

class MeteredD1 {
  constructor(readonly inner: D1Database | D1DatabaseSession) {}

  prepare(sql: string): D1PreparedStatement {
    return new MeteredStatement(this.inner.prepare(sql)) as unknown as D1PreparedStatement
  }

  async batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const results = await timed('d1Ms', this.inner.batch<T>(statements.map(unwrap)))
    count(statements.length, results.map((r) => r.meta))
    return results
  }

  async exec(sql: string): Promise<D1ExecResult> {
    const result = await (this.inner as D1Database).exec(sql)
    count(result.count, null)
    return result
  }

  /** Sessions API: reads may go to a replica no older than the bookmark (or the primary). */
  withSession(constraintOrBookmark?: string): D1DatabaseSession {
    return new MeteredD1((this.inner as D1Database).withSession(constraintOrBookmark as never)) as unknown as D1DatabaseSession
  }

  getBookmark(): string | null {
    return (this.inner as D1DatabaseSession).getBookmark()
  }

  dump(): Promise<ArrayBuffer> {
    return (this.inner as D1Database).dump()
  }
}

class MeteredStatement {
  constructor(readonly inner: D1PreparedStatement) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new MeteredStatement(this.inner.bind(...values)) as unknown as D1PreparedStatement
  }

  // first() returns no meta: take the rows through all(), as first() itself reads them all.
  async first<T>(column?: string): Promise<T | null> {
    const { results } = await this.all<Record<string, unknown>>()
    const row = results[0]
    if (!row) return null
    return (column === undefined ? row : (row[column] ?? null)) as T
  }

  async all<T>(): Promise<D1Result<T>> {
    const result = await timed('d1Ms', this.inner.all<T>())
    count(1, [result.meta])
    return result
  }

  async run<T>(): Promise<D1Result<T>> {
    const result = await timed('d1Ms', this.inner.run<T>())
    count(1, [result.meta])
    return result
  }

  async raw<T>(options?: { columnNames?: boolean }): Promise<T[]> {
    const rows = await timed('d1Ms', this.inner.raw<T>(options as never))
    count(1, null)
    return rows as T[]
  }
}

const unwrap = (s: D1PreparedStatement): D1PreparedStatement => (s instanceof MeteredStatement ? s.inner : s)
