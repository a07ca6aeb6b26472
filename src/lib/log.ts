/**
 * Structured logs: one JSON object per line so `wrangler tail` and Workers
 * Logs can filter on fields. Callers pass facts, never secrets or tokens.
 */
export type LogFields = Record<string, unknown>

export interface ProblemLine {
  level: 'warn' | 'error'
  msg: string
  time: string
  /** The other fields, as JSON text (plain data crosses actor RPC). */
  fields: string
}

/** The last warnings and errors this isolate logged, for the owner's status page. */
const problems: ProblemLine[] = []
const MAX_PROBLEMS = 20

export function recentProblems(): ProblemLine[] {
  return [...problems]
}

export function log(level: 'info' | 'warn' | 'error', msg: string, fields: LogFields = {}): void {
  const time = new Date().toISOString()
  const line = JSON.stringify({ level, msg, time, ...fields })
  if (level !== 'info') {
    const { stack: _stack, ...rest } = fields
    problems.push({ level, msg, time, fields: JSON.stringify(rest) })
    if (problems.length > MAX_PROBLEMS) problems.shift()
  }
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) return { error: err.name, errorMessage: err.message, stack: err.stack?.split('\n').slice(0, 6).join('\n') }
  return { error: String(err) }
}
