import { AtUri } from '@atproto/syntax'
import type { Config } from '../env'
import { InvalidRequestError, UpstreamFailureError } from '../lib/errors'
import { assertPublicUrl } from '../lib/publicUrl'

export const GET_FEED = 'app.bsky.feed.getFeed'
export const GET_FEED_SKELETON = 'app.bsky.feed.getFeedSkeleton'
const TIMEOUT_MS = 10_000

/**
 * `app.bsky.feed.getFeed` is answered by the AppView, which asks the feed
 * generator for the skeleton and passes our token on: so the token must be
 * for the generator (`aud` = its DID, `lxm` = getFeedSkeleton), or a
 * personalised feed sees a refused or anonymous viewer. As the reference PDS
 * does, the generator's DID comes from the feed's `app.bsky.feed.generator`
 * record, read through the AppView's `com.atproto.repo.getRecord`.
 */
export async function feedGeneratorDid(feed: string | null, config: Config): Promise<string> {
  let uri: AtUri
  try {
    uri = new AtUri(feed ?? '')
  } catch {
    throw new InvalidRequestError('feed must be an at-uri')
  }
  if (!feed || !uri.collection || !uri.rkey) throw new InvalidRequestError('feed must be an at-uri')
  const url = assertPublicUrl(`${config.appView.url}/xrpc/com.atproto.repo.getRecord`, config.proxyAllowInsecure)
  url.searchParams.set('repo', uri.host)
  url.searchParams.set('collection', uri.collection)
  url.searchParams.set('rkey', uri.rkey)
  let res: Response
  try {
    res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch {
    throw new UpstreamFailureError('could not reach the AppView to resolve the feed')
  }
  const body = (await res.json().catch(() => null)) as { value?: { did?: unknown } } | null
  const did = res.ok ? body?.value?.did : undefined
  if (typeof did !== 'string' || !did.startsWith('did:')) throw new InvalidRequestError('could not resolve feed did', 'UnknownFeed')
  return did
}
