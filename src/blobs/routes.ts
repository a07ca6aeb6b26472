/**
 * `GET /blobs/:cid`: the hosted account's committed blobs at a plain URL, with
 * the same headers and rules as `com.atproto.sync.getBlob`.
 */
import { Hono } from 'hono'
import { readConfig, type Env } from '../env'
import { getDb } from '../db/client'
import { getReferencedBlob } from '../db/blobs'
import { InvalidRequestError, NotFoundError } from '../lib/errors'
import { parseCid } from './cid'
import { blobResponse } from './serve'

export const blobRoutes = new Hono<{ Bindings: Env }>()

blobRoutes.get('/blobs/:cid', async (c) => {
  const cid = parseCid(c.req.param('cid'))?.toString()
  if (!cid) throw new InvalidRequestError(`Invalid CID: ${c.req.param('cid')}`)
  const config = readConfig(c.env)
  const blob = await getReferencedBlob(getDb(c.env.DB), config.did, cid)
  const res = blob && (await blobResponse(c.env.BLOBS, blob, c.req.raw))
  if (!res) throw new NotFoundError('Blob not found', 'BlobNotFound')
  return res
})
