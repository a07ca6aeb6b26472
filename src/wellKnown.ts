import { Hono } from 'hono'
import type { Env } from './env'
import { readConfig } from './env'
import { getAccount } from './db/accounts'
import { getDb } from './db/client'
import { buildDidDocument } from './identity/didDocument'
import { NotFoundError } from './lib/errors'

/** did:web document and handle verification for the account this PDS hosts. */
export const wellKnown = new Hono<{ Bindings: Env }>()

wellKnown.get('/.well-known/did.json', async (c) => {
  const config = readConfig(c.env)
  if (!config.did.startsWith('did:web:')) throw new NotFoundError('This PDS does not host a did:web document')
  const account = await getAccount(getDb(c.env.DB), config)
  return c.json(await buildDidDocument(config, account.handle))
})

wellKnown.get('/.well-known/atproto-did', async (c) => {
  const config = readConfig(c.env)
  return c.text(config.did, 200, { 'content-type': 'text/plain; charset=utf-8' })
})
