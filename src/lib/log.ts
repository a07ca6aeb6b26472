/**
 * Structured logs: one JSON object per line so `wrangler tail` and Workers
 * Logs can filter on fields. Callers pass facts, never secrets or tokens.
 */
export type LogFields = Record<string, unknown>

export function log(level: 'info' | 'warn' | 'error', msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) return { error: err.name, errorMessage: err.message, stack: err.stack?.split('\n').slice(0, 6).join('\n') }
  return { error: String(err) }
}
