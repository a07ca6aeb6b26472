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

export type LogLevel = 'info' | 'warn' | 'error'
export const LOG_LEVELS: readonly LogLevel[] = ['info', 'warn', 'error']
let lowest = 0

/**
 * The lowest level printed in this isolate (LOG_LEVEL; unset or unknown: info).
 * `warn` drops the line per request and per commit, e.g. to keep Workers Logs
 * volume down; warnings and errors still reach the status page either way.
 */
export function setLogLevel(level: string | undefined): void {
  lowest = Math.max(0, LOG_LEVELS.indexOf(level as LogLevel))
}

export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  const printed = LOG_LEVELS.indexOf(level) >= lowest
  if (!printed && level === 'info') return
  const time = new Date().toISOString()
  if (level !== 'info') {
    const { stack: _stack, ...rest } = fields
    problems.push({ level, msg, time, fields: JSON.stringify(rest) })
    if (problems.length > MAX_PROBLEMS) problems.shift()
  }
  if (!printed) return
  const line = JSON.stringify({ level, msg, time, ...fields })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) return { error: err.name, errorMessage: err.message, stack: err.stack?.split('\n').slice(0, 6).join('\n') }
  return { error: String(err) }
}
