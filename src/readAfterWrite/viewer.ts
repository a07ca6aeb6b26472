import { createServiceJwt } from '../auth/serviceAuth'
import type { Config } from '../env'
import { getAccount } from '../db/accounts'
import type { Db } from '../db/client'
import { getProfileRecord } from '../db/recordsSinceRev'
import { getSigningKey } from '../identity/signingKey'
import { assertPublicUrl } from '../lib/publicUrl'
import { recordToJson } from '../repo/recordJson'
import type { LocalRecord } from './localRecords'

type View = Record<string, any>
const APPVIEW_TIMEOUT_MS = 5_000

/**
 * Builds AppView-shaped views of the account's own records the AppView has
 * not indexed yet (reference PDS `LocalViewer`): posts with zero counts, the
 * author from our profile record, embeds from the record itself. Images point
 * at our own getBlob, which serves them whether or not the AppView has them.
 */
export class LocalViewer {
  #author?: Promise<View>

  constructor(
    readonly did: string,
    private readonly config: Config,
    private readonly db: Db,
    private readonly d1: D1Database,
  ) {}

  imageUrl(cid: string): string {
    return `${this.config.publicUrl}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(this.did)}&cid=${cid}`
  }

  /** The account as a profileViewBasic, read once per request. */
  author(): Promise<View> {
    this.#author ??= (async () => {
      const [account, profile] = await Promise.all([getAccount(this.db, this.config), getProfileRecord(this.d1, this.did)])
      const record = profile ? (recordToJson(profile) as View) : {}
      return this.updateProfileViewBasic({ did: this.did, handle: account.handle }, record)
    })()
    return this.#author
  }

  async postView(local: LocalRecord): Promise<View> {
    return {
      uri: local.uri,
      cid: local.cid,
      author: await this.author(),
      record: local.record,
      embed: await this.embedView(local.record.embed),
      // Nobody has liked, replied to, reposted or quoted a post the AppView has not seen yet.
      replyCount: 0,
      repostCount: 0,
      likeCount: 0,
      quoteCount: 0,
      indexedAt: local.indexedAt,
    }
  }

  /**
   * Inserts the local posts newer than the feed's last item, by time. Older
   * ones belong to a later page the AppView will have caught up on.
   */
  async insertPostsInFeed(feed: View[], posts: LocalRecord[]): Promise<View[]> {
    const lastTime = feed.at(-1)?.post?.indexedAt ?? new Date(0).toISOString()
    const known = new Set(feed.map((item) => item.post?.uri))
    const out = [...feed]
    for (const local of posts.filter((p) => p.indexedAt > lastTime && !known.has(p.uri))) {
      const post = await this.postView(local)
      const at = out.findIndex((item) => item.post?.indexedAt < post.indexedAt)
      if (at >= 0) out.splice(at, 0, { post })
      else out.push({ post })
    }
    return out
  }

  updateProfileViewBasic(view: View, record: View): View {
    return { ...view, displayName: record.displayName, avatar: blobCid(record.avatar) ? this.imageUrl(blobCid(record.avatar)!) : undefined }
  }

  updateProfileView(view: View, record: View): View {
    return { ...this.updateProfileViewBasic(view, record), description: record.description }
  }

  updateProfileDetailed(view: View, record: View): View {
    return { ...this.updateProfileView(view, record), banner: blobCid(record.banner) ? this.imageUrl(blobCid(record.banner)!) : undefined }
  }

  async embedView(embed: View | undefined): Promise<View | undefined> {
    switch (embed?.$type) {
      case 'app.bsky.embed.images':
        return this.imagesView(embed)
      case 'app.bsky.embed.external':
        return this.externalView(embed)
      case 'app.bsky.embed.record':
        return { $type: 'app.bsky.embed.record#view', record: await this.recordView(embed.record?.uri) }
      case 'app.bsky.embed.recordWithMedia': {
        const media = embed.media?.$type === 'app.bsky.embed.images' ? this.imagesView(embed.media) : embed.media?.$type === 'app.bsky.embed.external' ? this.externalView(embed.media) : undefined
        if (!media) return undefined
        return { $type: 'app.bsky.embed.recordWithMedia#view', record: { $type: 'app.bsky.embed.record#view', record: await this.recordView(embed.record?.record?.uri) }, media }
      }
      default:
        // Video views need the video service's playlist; the AppView will have it shortly.
        return undefined
    }
  }

  imagesView(embed: View): View {
    const images = (embed.images ?? []).map((img: View) => {
      const cid = blobCid(img.image)
      return { thumb: cid ? this.imageUrl(cid) : '', fullsize: cid ? this.imageUrl(cid) : '', alt: img.alt ?? '', aspectRatio: img.aspectRatio }
    })
    return { $type: 'app.bsky.embed.images#view', images }
  }

  externalView(embed: View): View {
    const { uri, title, description, thumb } = embed.external ?? {}
    const cid = blobCid(thumb)
    return { $type: 'app.bsky.embed.external#view', external: { uri, title, description, thumb: cid ? this.imageUrl(cid) : undefined } }
  }

  /** A quoted post, as the AppView shows it; "not found" when it cannot say. */
  async recordView(uri: string | undefined): Promise<View> {
    const notFound = { $type: 'app.bsky.embed.record#viewNotFound', uri, notFound: true }
    if (!uri || !uri.includes('/app.bsky.feed.post/')) return notFound
    const data = await this.appViewGet('app.bsky.feed.getPosts', { uris: uri }).catch(() => null)
    const post = data?.posts?.[0]
    if (!post) return notFound
    return {
      $type: 'app.bsky.embed.record#viewRecord',
      uri: post.uri,
      cid: post.cid,
      author: post.author,
      value: post.record,
      labels: post.labels,
      embeds: post.embed ? [post.embed] : undefined,
      indexedAt: post.indexedAt,
    }
  }

  /** A read from the configured AppView with a service token for this account. */
  async appViewGet(nsid: string, params: Record<string, string | number>): Promise<View | null> {
    const url = assertPublicUrl(`${this.config.appView.url}/xrpc/${nsid}`, this.config.proxyAllowInsecure)
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v))
    const token = await createServiceJwt(await getSigningKey(this.config.signingKeyHex), { iss: this.did, aud: this.config.appView.did, lxm: nsid })
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual', signal: AbortSignal.timeout(APPVIEW_TIMEOUT_MS) })
    if (!res.ok) {
      await res.body?.cancel()
      return null
    }
    return (await res.json()) as View
  }
}

function blobCid(blob: View | undefined): string | undefined {
  const link = blob?.ref?.$link
  return typeof link === 'string' ? link : undefined
}
