// The PDS a bench script drives: PDS_URL (default the local dev server),
// loopback only, with PDS_IDENTIFIER / PDS_PASSWORD or the dev credentials
// from the project's .dev.vars.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

const file = path.resolve(import.meta.dirname, '../..', '.dev.vars')
const devVars = existsSync(file) ? Object.fromEntries([...readFileSync(file, 'utf8').matchAll(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/gm)].map((m) => [m[1], m[2]])) : {}

export const url = (process.env.PDS_URL || 'http://localhost:8787').replace(/\/$/, '')
if (!['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname)) throw new Error(`loopback only: ${url}`)
export const identifier = process.env.PDS_IDENTIFIER || devVars.PDS_HANDLE || 'dev.test'
export const password = process.env.PDS_PASSWORD || devVars.ADMIN_PASSWORD

/** POSTs an XRPC procedure to the target; its JSON, or throws with the status and error. */
export async function xrpc(nsid, body, token) {
  const res = await fetch(`${url}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${JSON.stringify(json)}`)
  return json
}
