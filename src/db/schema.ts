/**
 * Everything D1 holds. `npm run drizzle:generate` turns changes here into SQL
 * under migrations/, which `wrangler d1 migrations apply` runs.
 */
import { sql } from 'drizzle-orm'
import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** The account's lifecycle and current handle (a did:web handle can change). */
export const account = sqliteTable('account', {
  did: text('did').primaryKey(),
  handle: text('handle').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  status: text('status'),
  createdAt: integer('created_at').notNull(),
})

/** Head of each repo: the signed commit's CID and rev. Only the actor writes it. */
export const repoRoot = sqliteTable('repo_root', {
  did: text('did').primaryKey(),
  cid: text('cid').notNull(),
  rev: text('rev').notNull(),
  /** MST root of the head commit: the next commit's `prevData`. */
  dataCid: text('data_cid').notNull(),
  indexedAt: integer('indexed_at').notNull(),
})

/** Content-addressed repo blocks (commits, MST nodes, records). */
export const repoBlock = sqliteTable(
  'repo_block',
  {
    did: text('did').notNull(),
    cid: text('cid').notNull(),
    repoRev: text('repo_rev').notNull(),
    size: integer('size').notNull(),
    content: blob('content', { mode: 'buffer' }).$type<Uint8Array>().notNull(),
    /**
     * When a commit made the block unreachable. It stays readable a while so an
     * export that started from an older commit can finish (src/repo/snapshot.ts);
     * the actor's alarm deletes it later. A commit that needs it again clears this.
     */
    removedAt: integer('removed_at'),
  },
  // Only removed blocks are in the removal index (what the alarm prunes): a live block's insert
  // writes no entry there, and D1 bills every index row written.
  (t) => [
    primaryKey({ columns: [t.did, t.cid] }),
    index('repo_block_rev_idx').on(t.did, t.repoRev, t.cid),
    index('repo_block_removed_idx').on(t.did, t.removedAt).where(sql`${t.removedAt} IS NOT NULL`),
  ],
)

/** Index of the current records, so reads never walk the MST. */
export const record = sqliteTable(
  'record',
  {
    uri: text('uri').primaryKey(),
    did: text('did').notNull(),
    collection: text('collection').notNull(),
    rkey: text('rkey').notNull(),
    cid: text('cid').notNull(),
    repoRev: text('repo_rev').notNull(),
    indexedAt: integer('indexed_at').notNull(),
  },
  // record_cid_idx: a commit keeps a block some record still points at (two records may share content).
  // record_rev_idx: read-after-write asks for the records written after the AppView's rev.
  (t) => [index('record_collection_idx').on(t.did, t.collection, t.rkey), index('record_cid_idx').on(t.did, t.cid), index('record_rev_idx').on(t.did, t.repoRev)],
)

/** The firehose log: each row is one complete, encoded subscribeRepos frame. */
export const repoEvent = sqliteTable(
  'repo_event',
  {
    seq: integer('seq').primaryKey(),
    did: text('did').notNull(),
    type: text('type').notNull(),
    frame: blob('frame', { mode: 'buffer' }).$type<Uint8Array>().notNull(),
    sequencedAt: integer('sequenced_at').notNull(),
  },
  (t) => [index('repo_event_time_idx').on(t.sequencedAt)],
)

/** Live refresh tokens by `jti`; rotating or logging out deletes the row. */
export const refreshToken = sqliteTable(
  'refresh_token',
  {
    id: text('id').primaryKey(),
    did: text('did').notNull(),
    appPasswordName: text('app_password_name'),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('refresh_token_did_idx').on(t.did)],
)

/**
 * Login attempts per source (IPv4 address or IPv6 /64), as a GCRA rate limit:
 * `tat` is when the source's budget is whole again. No row for the whole
 * server: a global counter would let anyone lock the owner out.
 */
export const loginLimit = sqliteTable('login_limit', {
  key: text('key').primaryKey(),
  tat: integer('tat').notNull(),
})

/** Uploaded blobs; bytes live in R2 under the CID. Unreferenced ones are temporary. */
export const blobMeta = sqliteTable(
  'blob',
  {
    did: text('did').notNull(),
    cid: text('cid').notNull(),
    mimeType: text('mime_type').notNull(),
    size: integer('size').notNull(),
    createdAt: integer('created_at').notNull(),
    /**
     * Names this row's R2 object (`blobs/<did>/<cid>/<generation>`; null: the
     * older `blobs/<did>/<cid>`). Each row that an upload inserts gets a new
     * one, so garbage collection deleting an old row's bytes never deletes
     * the bytes of a row uploaded again meanwhile.
     */
    generation: text('generation'),
  },
  (t) => [primaryKey({ columns: [t.did, t.cid] })],
)

/** Which record references which blob; written in the same batch as the commit. */
export const recordBlob = sqliteTable(
  'record_blob',
  {
    did: text('did').notNull(),
    blobCid: text('blob_cid').notNull(),
    recordUri: text('record_uri').notNull(),
  },
  (t) => [primaryKey({ columns: [t.blobCid, t.recordUri] }), index('record_blob_uri_idx').on(t.recordUri)],
)

export const appPassword = sqliteTable(
  'app_password',
  {
    did: text('did').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    privileged: integer('privileged', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.did, t.name] })],
)

/**
 * An account's preferences in one namespace (`app.bsky`), as the JSON array
 * the client put, in its order: one row, so a put of any size is one statement.
 */
export const preferenceSet = sqliteTable(
  'preference_set',
  {
    did: text('did').notNull(),
    namespace: text('namespace').notNull(),
    valuesJson: text('values_json').notNull(),
  },
  (t) => [primaryKey({ columns: [t.did, t.namespace] })],
)

/** The last requestCrawl sent to each relay in RELAY_HOSTS: what the cron and a new deployment compare against. */
export const relayCrawl = sqliteTable('relay_crawl', {
  /** The relay's origin (`https://bsky.network`). */
  relay: text('relay').primaryKey(),
  /** The hostname we asked it to crawl (a changed PDS_HOSTNAME asks again). */
  hostname: text('hostname').notNull(),
  /** `ok`, `refused` (the relay answered an error) or `failed` (unreachable). */
  status: text('status').notNull(),
  /** HTTP status and the relay's error, or the network error; never a secret. */
  detail: text('detail'),
  attempts: integer('attempts').notNull(),
  attemptedAt: integer('attempted_at').notNull(),
  okAt: integer('ok_at'),
})

/**
 * The owner's email address, set from the app (updateEmail). There is no
 * mailer: an address the owner sets with the owner password counts as
 * confirmed (README "Email").
 */
export const accountEmail = sqliteTable('account_email', {
  did: text('did').primaryKey(),
  email: text('email').notNull(),
  confirmedAt: integer('confirmed_at'),
})

/**
 * OAuth authorization requests (PAR), from push to code exchange. `code` is set
 * once the owner approves; `sessionId` once the code is exchanged, so a reused
 * code can revoke what it produced.
 */
export const oauthRequest = sqliteTable(
  'oauth_request',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    /** JSON `{method, kid?, jkt?}`: how the client authenticated at PAR. */
    clientAuth: text('client_auth').notNull(),
    /** JSON of the validated authorization request parameters. */
    parameters: text('parameters').notNull(),
    dpopJkt: text('dpop_jkt'),
    did: text('did'),
    code: text('code'),
    sessionId: text('session_id'),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('oauth_request_code_idx').on(t.code), index('oauth_request_expires_idx').on(t.expiresAt)],
)

/**
 * One row per OAuth session (a token family). Deleting it revokes every access
 * token of the family at once: the resource server looks the row up on each use.
 */
export const oauthSession = sqliteTable(
  'oauth_session',
  {
    id: text('id').primaryKey(),
    did: text('did').notNull(),
    clientId: text('client_id').notNull(),
    clientAuth: text('client_auth').notNull(),
    scope: text('scope').notNull(),
    dpopJkt: text('dpop_jkt').notNull(),
    /** SHA-256 (hex) of the current refresh token's secret; a previous one is a replay. */
    refreshHash: text('refresh_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('oauth_session_did_idx').on(t.did, t.clientId), index('oauth_session_expires_idx').on(t.expiresAt)],
)

/** Scopes the owner granted each client, so a same-or-narrower request skips the consent screen. */
export const oauthConsent = sqliteTable(
  'oauth_consent',
  {
    did: text('did').notNull(),
    clientId: text('client_id').notNull(),
    clientName: text('client_name'),
    scope: text('scope').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.did, t.clientId] })],
)

/** DPoP proof `jti`s seen within their validity window (replay protection). */
export const oauthDpopJti = sqliteTable(
  'oauth_dpop_jti',
  {
    jti: text('jti').primaryKey(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('oauth_dpop_jti_expires_idx').on(t.expiresAt)],
)

/**
 * An import's verified MST nodes, staged by the Worker while it walks the
 * imported repo (src/repo/import/): the actor's switch reads them in SQL, so
 * no list of the repo's blocks ever passes through one Worker or one RPC.
 * `marker` names the import (its lease); rows go with the switch or the cleanup.
 */
export const importNode = sqliteTable(
  'import_node',
  {
    marker: text('marker').notNull(),
    cid: text('cid').notNull(),
  },
  (t) => [primaryKey({ columns: [t.marker, t.cid] })],
)

/** An import's record index rows (and each record's blob CIDs, as a JSON array), staged like import_node. */
export const importRecord = sqliteTable(
  'import_record',
  {
    marker: text('marker').notNull(),
    uri: text('uri').notNull(),
    collection: text('collection').notNull(),
    rkey: text('rkey').notNull(),
    cid: text('cid').notNull(),
    blobs: text('blobs').notNull(),
  },
  (t) => [primaryKey({ columns: [t.marker, t.uri] })],
)
