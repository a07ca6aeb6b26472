import type { LocalRecord, LocalRecords } from './localRecords'
import type { LocalViewer } from './viewer'

type View = Record<string, any>
/** Merges the account's own newer records into an AppView answer (reference PDS read-after-write, per method). */
export type Munge = (viewer: LocalViewer, original: View, local: LocalRecords) => Promise<View>

const getProfile: Munge = async (viewer, original, local) => {
  if (!local.profile || original.did !== viewer.did) return original
  return viewer.updateProfileDetailed(original, local.profile.record)
}

const getProfiles: Munge = async (viewer, original, local) => {
  const profile = local.profile
  if (!profile || !Array.isArray(original.profiles)) return original
  return { ...original, profiles: original.profiles.map((p: View) => (p.did === viewer.did ? viewer.updateProfileDetailed(p, profile.record) : p)) }
}

/** Our own posts' author views get the newer profile. */
function withLocalAuthor(viewer: LocalViewer, feed: View[], local: LocalRecords): View[] {
  const profile = local.profile
  if (!profile) return feed
  return feed.map((item) =>
    item.post?.author?.did === viewer.did ? { ...item, post: { ...item.post, author: viewer.updateProfileViewBasic(item.post.author, profile.record) } } : item,
  )
}

/** The account's own author feed: the first item is its post or its repost (the reference's test). */
function isOwnFeed(viewer: LocalViewer, feed: View[]): boolean {
  const first = feed[0]
  if (!first) return false
  if (!first.reason) return first.post?.author?.did === viewer.did
  return first.reason.$type === 'app.bsky.feed.defs#reasonRepost' && first.reason.by?.did === viewer.did
}

const getAuthorFeed: Munge = async (viewer, original, local) => {
  if (!Array.isArray(original.feed) || !isOwnFeed(viewer, original.feed)) return original
  const feed = withLocalAuthor(viewer, original.feed, local)
  return { ...original, feed: await viewer.insertPostsInFeed(feed, local.posts) }
}

const getActorLikes: Munge = async (viewer, original, local) => {
  if (!Array.isArray(original.feed)) return original
  return { ...original, feed: withLocalAuthor(viewer, original.feed, local) }
}

const getTimeline: Munge = async (viewer, original, local) => {
  if (!Array.isArray(original.feed)) return original
  return { ...original, feed: await viewer.insertPostsInFeed(original.feed, local.posts) }
}

const isThreadViewPost = (v: View | undefined): v is View => v?.$type === 'app.bsky.feed.defs#threadViewPost' || (v?.post !== undefined && v?.$type === undefined)

/** Our replies into the thread, under the post each one answers. */
export async function addPostsToThread(viewer: LocalViewer, thread: View, posts: LocalRecord[]): Promise<View> {
  const root = thread.post?.record?.reply?.root?.uri ?? thread.post?.uri
  let out = thread
  for (const post of posts.filter((p) => p.record.reply?.root?.uri === root)) out = await insertReply(viewer, out, post)
  return out
}

async function insertReply(viewer: LocalViewer, view: View, post: LocalRecord): Promise<View> {
  if (post.record.reply?.parent?.uri === view.post?.uri) {
    return { ...view, replies: [{ $type: 'app.bsky.feed.defs#threadViewPost', post: await viewer.postView(post) }, ...(view.replies ?? [])] }
  }
  if (!Array.isArray(view.replies)) return view
  return { ...view, replies: await Promise.all(view.replies.map((r: View) => (isThreadViewPost(r) ? insertReply(viewer, r, post) : r))) }
}

const getPostThread: Munge = async (viewer, original, local) => {
  if (!isThreadViewPost(original.thread)) return original
  return { ...original, thread: await addPostsToThread(viewer, original.thread, local.posts) }
}

export const mungers: Record<string, Munge> = {
  'app.bsky.actor.getProfile': getProfile,
  'app.bsky.actor.getProfiles': getProfiles,
  'app.bsky.feed.getActorLikes': getActorLikes,
  'app.bsky.feed.getAuthorFeed': getAuthorFeed,
  'app.bsky.feed.getPostThread': getPostThread,
  'app.bsky.feed.getTimeline': getTimeline,
}
