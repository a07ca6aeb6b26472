import { schemas } from '@atproto/api'
import { Lexicons, type LexiconDoc } from '@atproto/lexicon'
import { InvalidRequestError } from './errors'

/** The published lexicons (as bundled with @atproto/api), loaded once per isolate. */
export const lexicons = new Lexicons(schemas as LexiconDoc[])

type ParamDef = { type: string; items?: { type: string } }

/**
 * Runs a lexicon check without capturing stack traces. @atproto/lexicon builds
 * a ValidationError for every absent optional parameter and every union member
 * it rules out, and only the message of one that fails is ever read; capturing
 * their stacks was most of what checking a query string cost.
 */
export function withoutStacks<T>(check: () => T): T {
  const limit = V8Error.stackTraceLimit
  V8Error.stackTraceLimit = 0
  try {
    return check()
  } finally {
    V8Error.stackTraceLimit = limit
  }
}

/** V8's Error, with the stack depth setting the Workers types leave out. */
const V8Error = Error as ErrorConstructor & { stackTraceLimit: number }

/**
 * Query strings carry text; the lexicon says what each parameter is.
 * Decode then validate, as the reference XRPC server does.
 */
export function decodeAndValidateParams(nsid: string, search: URLSearchParams): Record<string, unknown> {
  const def = lexicons.getDef(nsid) as { parameters?: { properties?: Record<string, ParamDef> } } | undefined
  const props = def?.parameters?.properties ?? {}
  const decoded: Record<string, unknown> = {}
  for (const [name, prop] of Object.entries(props)) {
    const values = search.getAll(name)
    if (values.length === 0) continue
    if (prop.type === 'array') decoded[name] = values.map((v) => decodeScalar(name, prop.items?.type ?? 'string', v))
    else decoded[name] = decodeScalar(name, prop.type, values[0]!)
  }
  if (!def) return decoded
  try {
    return (withoutStacks(() => lexicons.assertValidXrpcParams(nsid, decoded)) ?? {}) as Record<string, unknown>
  } catch (err) {
    throw new InvalidRequestError(err instanceof Error ? err.message : String(err))
  }
}

function decodeScalar(name: string, type: string, value: string): unknown {
  if (type === 'integer') {
    if (!/^-?\d+$/.test(value)) throw new InvalidRequestError(`${name} must be an integer`)
    return Number(value)
  }
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false') throw new InvalidRequestError(`${name} must be a boolean`)
    return value === 'true'
  }
  return value
}

/** Validates a JSON procedure body against its lexicon, when the lexicon is known. */
export function validateInput(nsid: string, body: unknown): void {
  if (!lexicons.getDef(nsid)) return
  try {
    withoutStacks(() => lexicons.assertValidXrpcInput(nsid, body))
  } catch (err) {
    throw new InvalidRequestError(err instanceof Error ? err.message : String(err))
  }
}
