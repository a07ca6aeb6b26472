import type { Config, Env } from '../env'
import type { AuthMode } from '../auth/verifier'
import { authenticateCaller, enforceScope, type CallerAuth, type OAuthPolicy } from './callerAuth'
import { getDb, type Db } from '../db/client'
import { InvalidRequestError, PayloadTooLargeError } from '../lib/errors'
import { decodeAndValidateParams, validateInput } from '../lib/lexicons'

/** The reference PDS's JSON body limit. */
const JSON_LIMIT_BYTES = 150 * 1024

export interface XrpcContext<I = unknown> {
  nsid: string
  req: Request
  env: Env
  config: Config
  db: Db
  /** Query parameters decoded by their lexicon types and validated. */
  params: Record<string, any>
  input: I
  auth: CallerAuth | null
  requestId: string
  waitUntil(promise: Promise<unknown>): void
}

/** What a handler returns: JSON, raw bytes/stream with a content type, or nothing. */
export type XrpcOutput =
  | { json: unknown; headers?: Record<string, string> }
  | { body: BodyInit; contentType: string; headers?: Record<string, string> }
  | Response
  | void

export interface XrpcMethod {
  nsid: string
  type: 'query' | 'procedure'
  auth: AuthMode
  /** `json` parses the body; `raw` leaves the request body to the handler (uploads). */
  input: 'none' | 'json' | 'raw'
  /** What OAuth (DPoP) credentials may do here; see callerAuth.ts. */
  oauth?: OAuthPolicy
  handler(ctx: XrpcContext<any>): Promise<XrpcOutput>
}

interface Options {
  auth?: AuthMode
  input?: XrpcMethod['input']
  oauth?: OAuthPolicy
}

export function query<I = undefined>(nsid: string, opts: Options, handler: (ctx: XrpcContext<I>) => Promise<XrpcOutput>): XrpcMethod {
  return { nsid, type: 'query', auth: opts.auth ?? 'none', input: 'none', oauth: opts.oauth, handler }
}

export function procedure<I = Record<string, unknown>>(nsid: string, opts: Options, handler: (ctx: XrpcContext<I>) => Promise<XrpcOutput>): XrpcMethod {
  return { nsid, type: 'procedure', auth: opts.auth ?? 'none', input: opts.input ?? 'json', oauth: opts.oauth, handler }
}

export interface CallOptions {
  env: Env
  config: Config
  requestId: string
  waitUntil(promise: Promise<unknown>): void
  onAuth?(auth: CallerAuth): void
}

/** Runs one method: HTTP verb, auth, input parsing, handler, rendering. */
export async function callMethod(method: XrpcMethod, req: Request, opts: CallOptions): Promise<Response> {
  const expected = method.type === 'query' ? ['GET', 'HEAD'] : ['POST']
  if (!expected.includes(req.method)) {
    throw new InvalidRequestError(`Incorrect HTTP method (${req.method}) expected ${expected[0]}`)
  }
  const db = getDb(opts.env.DB)
  const auth = await authenticateCaller(req, opts.config, db, method.auth, method.oauth)
  if (auth) opts.onAuth?.(auth)
  const params = decodeAndValidateParams(method.nsid, new URL(req.url).searchParams)
  const input = method.input === 'json' ? await readJson(req) : undefined
  if (method.input === 'json') validateInput(method.nsid, input)
  enforceScope(auth, method.oauth, { req, config: opts.config, params, input })
  const output = await method.handler({
    nsid: method.nsid,
    req,
    env: opts.env,
    config: opts.config,
    db,
    params,
    input,
    auth,
    requestId: opts.requestId,
    waitUntil: opts.waitUntil,
  })
  return render(output)
}

async function readJson(req: Request): Promise<unknown> {
  const type = req.headers.get('content-type') ?? ''
  const declared = Number(req.headers.get('content-length') ?? 0)
  if (declared > JSON_LIMIT_BYTES) throw new PayloadTooLargeError()
  const text = await req.text()
  if (text.length === 0) return {}
  if (!type.includes('application/json')) throw new InvalidRequestError(`Wrong request encoding (Content-Type): ${type || 'none'}`)
  if (new TextEncoder().encode(text).byteLength > JSON_LIMIT_BYTES) throw new PayloadTooLargeError()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new InvalidRequestError('Request body is not valid JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('Request body must be a JSON object')
  return body
}

function render(output: XrpcOutput): Response {
  if (output instanceof Response) return output
  if (!output) return new Response(null, { status: 200 })
  if ('json' in output) return Response.json(output.json, { headers: output.headers })
  return new Response(output.body, { headers: { 'content-type': output.contentType, ...output.headers } })
}
