import { AtpAgent } from '@atproto/api'
import { exports } from 'cloudflare:workers'

export const TEST_DID = 'did:web:pds.test'
export const TEST_HANDLE = 'alice.test'
export const TEST_PASSWORD = 'test-admin-password'

/** The Worker under test, called in-process (real workerd, real D1/R2/DO). */
export const worker = (exports as unknown as { default: Fetcher }).default

export function xrpcUrl(nsid: string, params?: Record<string, string | number | boolean>) {
  const url = new URL(`https://pds.test/xrpc/${nsid}`)
  for (const [k, v] of Object.entries(params ?? {})) url.searchParams.set(k, String(v))
  return url.toString()
}

export async function xrpc(nsid: string, opts: { params?: Record<string, string | number | boolean>; body?: unknown; token?: string; method?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  let body: BodyInit | undefined
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json'
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
  }
  return readResponse(await worker.fetch(xrpcUrl(nsid, opts.params), { method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'), headers, body }))
}

/** Status, body as text, and as JSON when it parses: what the tests assert on. */
export async function readResponse(res: Response) {
  const text = await res.text()
  let json: any = undefined
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, json, text, headers: res.headers }
}

/** A real @atproto/api client whose transport is the Worker under test. */
export function newAgent(): AtpAgent {
  return new AtpAgent({ service: 'https://pds.test', fetch: (input, init) => worker.fetch(new Request(input, init)) as unknown as Promise<Response> })
}

export async function loggedInAgent(): Promise<AtpAgent> {
  const agent = newAgent()
  await agent.login({ identifier: TEST_HANDLE, password: TEST_PASSWORD })
  return agent
}
