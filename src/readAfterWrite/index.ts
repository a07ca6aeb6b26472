import type { Config } from '../env'
import { getAccount } from '../db/accounts'
import type { Db } from '../db/client'
import { lexicons, withoutStacks } from '../lib/lexicons'
import { errorFields, log } from '../lib/log'
import { localLag, readLocalRecords, type LocalRecords } from './localRecords'
import { addPostsToThread, mungers } from './mungers'
import { LocalViewer } from './viewer'

export interface ReadAfterWriteContext {
  config: Config
  db: Db
  d1: D1Database
  /** The client's request: getPostThread's `uri` and `parentHeight`. */
  url: URL
  requestId: string
}

/** Whether an AppView answer to this method may need the account's own newer records merged in. */
export function hasReadAfterWrite(nsid: string): boolean {
  return nsid in mungers
}

/**
 * Read-after-write (reference PDS `pipethroughReadAfterWrite`): the AppView
 * says how far it has indexed our repo in `atproto-repo-rev`; records we wrote
 * after that rev are merged into its answer, so the app shows a post, reply
 * or profile edit the moment it is made. Anything that does not fit (no rev,
 * not JSON, an answer that fails its lexicon, a failure while merging) gives
 * the AppView's answer unchanged: this only ever adds.
 */
export async function readAfterWrite(nsid: string, did: string, upstream: Response, ctx: ReadAfterWriteContext): Promise<Response> {
  const munge = mungers[nsid]
  const rev = upstream.headers.get('atproto-repo-rev')
  const type = upstream.headers.get('content-type')
  if (!munge || !rev || (type !== null && !/^application\/json\b/i.test(type))) return upstream
  const notFoundThread = nsid === 'app.bsky.feed.getPostThread' && upstream.status === 400
  if (!upstream.ok && !notFoundThread) return upstream

  const local = await readLocalRecords(ctx.d1, did, rev)
  if (local.count === 0) return upstream
  const text = await upstream.text()
  const original = () => new Response(text, { status: upstream.status, headers: upstream.headers })
  try {
    const body = JSON.parse(text)
    const viewer = new LocalViewer(did, ctx.config, ctx.db, ctx.d1)
    if (notFoundThread) {
      if (body?.error !== 'NotFound') return original()
      const thread = await localThread(viewer, local, ctx)
      return thread ? merged(upstream.headers, { thread }, local) : original()
    }
    withoutStacks(() => lexicons.assertValidXrpcOutput(nsid, body))
    return merged(upstream.headers, await munge(viewer, body, local), local)
  } catch (err) {
    log('warn', 'read-after-write merge failed', { requestId: ctx.requestId, nsid, ...errorFields(err) })
    return original()
  }
}

function merged(upstreamHeaders: Headers, body: unknown, local: LocalRecords): Response {
  const headers = new Headers(upstreamHeaders)
  headers.set('content-type', 'application/json; charset=utf-8')
  headers.delete('content-length')
  const lag = localLag(local)
  if (lag !== undefined) headers.set('atproto-upstream-lag', String(lag))
  return new Response(JSON.stringify(body), { status: 200, headers })
}

/**
 * The AppView has not seen the post asked for: if it is one of ours written
 * since its rev, the thread is built here, with our replies to it and the
 * parents the AppView does know.
 */
async function localThread(viewer: LocalViewer, local: LocalRecords, ctx: ReadAfterWriteContext): Promise<Record<string, any> | null> {
  const asked = ctx.url.searchParams.get('uri') ?? ''
  const match = /^at:\/\/([^/]+)\/(.+)$/.exec(asked)
  if (!match) return null
  const account = await getAccount(ctx.db, ctx.config)
  const host = match[1]!.toLowerCase() === account.handle ? viewer.did : match[1]
  if (host !== viewer.did) return null
  const uri = `at://${viewer.did}/${match[2]}`
  const found = local.posts.find((p) => p.uri === uri)
  if (!found) return null
  const thread: Record<string, any> = await addPostsToThread(
    viewer,
    { $type: 'app.bsky.feed.defs#threadViewPost', post: await viewer.postView(found) },
    local.posts.filter((p) => p.uri !== uri),
  )
  const parentUri = found.record.reply?.parent?.uri
  if (typeof parentUri === 'string') {
    const parentHeight = ctx.url.searchParams.get('parentHeight')
    const parents = await viewer
      .appViewGet('app.bsky.feed.getPostThread', { uri: parentUri, depth: 0, ...(parentHeight ? { parentHeight } : {}) })
      .catch(() => null)
    if (parents?.thread) thread.parent = parents.thread
  }
  return thread
}
