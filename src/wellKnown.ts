import type { Env } from './env'
import { readConfig } from './env'
import { getAccount } from './db/accounts'
import { getDb } from './db/client'
import { buildDidDocument } from './identity/didDocument'
import { NotFoundError } from './lib/errors'

/** did:web document and handle verification for the account this PDS hosts (routes in xrpc/routes.ts). */

export async function didJson(_req: Request, env: Env): Promise<Response> {
  const config = readConfig(env)
  if (!config.did.startsWith('did:web:')) throw new NotFoundError('This PDS does not host a did:web document')
  const account = await getAccount(getDb(env.DB), config)
  return Response.json(await buildDidDocument(config, account.handle))
}

export async function atprotoDid(_req: Request, env: Env): Promise<Response> {
  return new Response(readConfig(env).did, { headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
