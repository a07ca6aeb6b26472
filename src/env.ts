import { LOG_LEVELS, setLogLevel, type LogLevel } from './lib/log'

/** Bindings and variables as wrangler.toml and secrets provide them. */
export interface Env {
  DB: D1Database
  BLOBS: R2Bucket
  CACHE: KVNamespace
  /** The AccountActor namespace: reach it through `actorFor` (src/actorStub.ts), which types the stub. */
  ACCOUNT: DurableObjectNamespace
  PDS_HOSTNAME: string
  PDS_DID: string
  PDS_HANDLE: string
  ADMIN_PASSWORD: string
  JWT_SECRET: string
  PDS_SIGNING_KEY: string
  RELAY_HOSTS?: string
  EVENT_RETENTION_HOURS?: string
  BLOB_MAX_BYTES?: string
  BLOB_TEMP_GRACE_HOURS?: string
  /** Milliseconds an upload may send nothing before it is abandoned (default 20,000). */
  BLOB_UPLOAD_IDLE_MS?: string
  BSKY_APPVIEW_URL?: string
  BSKY_APPVIEW_DID?: string
  BSKY_CHAT_URL?: string
  BSKY_CHAT_DID?: string
  PLC_DIRECTORY_URL?: string
  /** Secret: secp256k1 private key (hex) this PDS signs PLC operations with; required for a did:plc. */
  PLC_ROTATION_KEY?: string
  /** Dev/test only: lets the proxy reach loopback and plain-HTTP services. */
  PROXY_ALLOW_INSECURE?: string
  /** Where the account's actor is created (a Durable Object location hint): near the D1 primary. */
  ACTOR_LOCATION_HINT?: string
  /** `true`: anonymous record reads may be served by a D1 read replica (Sessions API). */
  D1_READ_REPLICAS?: string
  /** Lowest log level printed: `info` (default: a line per request and per commit), `warn` or `error`. */
  LOG_LEVEL?: string
}

export interface Config {
  hostname: string
  /** Public origin of this PDS: https, or http for localhost. */
  publicUrl: string
  did: string
  handle: string
  adminPassword: string
  jwtSecret: Uint8Array
  signingKeyHex: string
  relayHosts: string[]
  eventRetentionMs: number
  blobMaxBytes: number
  blobTempGraceMs: number
  uploadIdleMs: number
  appView: { url: string; did: string }
  chat: { url: string; did: string }
  plcDirectoryUrl: string
  /** Hex secp256k1 key for PLC operations; null for a did:web deploy that has none. */
  plcRotationKeyHex: string | null
  proxyAllowInsecure: boolean
  actorLocationHint?: DurableObjectLocationHint
  d1ReadReplicas: boolean
  logLevel: LogLevel
}

export class ConfigError extends Error {
  name = 'ConfigError'
  /** The names of the bad settings (never their values), for /xrpc/_health. */
  readonly settings: string[]

  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.settings = [...new Set(problems.map((p) => p.split(' ')[0]!))]
  }
}

/** The main Bluesky relay, as the reference PDS installer sets PDS_CRAWLERS. */
export const DEFAULT_RELAY = 'bsky.network'

/** Unset: the main relay, except on a local host (development); set: that list, and empty disables. */
function relayHosts(raw: string | undefined, isLocal: boolean): string[] {
  if (raw === undefined) return isLocal ? [] : [DEFAULT_RELAY]
  return raw.split(',').map((h) => h.trim()).filter(Boolean)
}

const cache = new WeakMap<object, Config>()

/** Durable Object location hints (https://developers.cloudflare.com/durable-objects/reference/data-location/). */
const LOCATION_HINTS = ['wnam', 'enam', 'sam', 'weur', 'eeur', 'apac', 'oc', 'afr', 'me']

/** Parses the environment once per isolate; throws naming every missing or malformed value. */
export function readConfig(env: Env): Config {
  const hit = cache.get(env)
  if (hit) return hit
  const problems: string[] = []
  const need = (key: keyof Env): string => {
    const value = env[key]
    if (typeof value !== 'string' || value.trim() === '') {
      problems.push(`${key} is missing`)
      return ''
    }
    return value.trim()
  }
  const num = (key: keyof Env, fallback: number): number => {
    const raw = env[key]
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isFinite(n) || n <= 0) {
      problems.push(`${key} must be a positive number`)
      return fallback
    }
    return n
  }

  const hostname = need('PDS_HOSTNAME')
  const did = need('PDS_DID')
  const handle = need('PDS_HANDLE').toLowerCase()
  const adminPassword = need('ADMIN_PASSWORD')
  const jwtSecret = need('JWT_SECRET')
  const signingKeyHex = need('PDS_SIGNING_KEY').toLowerCase()

  if (hostname && !/^[a-z0-9.-]+(:\d+)?$/i.test(hostname)) problems.push('PDS_HOSTNAME must be a host name, optionally with a port')
  if (did && !/^did:(web:[a-zA-Z0-9._:%-]+|plc:[a-z2-7]{24})$/.test(did)) problems.push('PDS_DID must be a did:web or did:plc')
  if (handle && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(handle)) problems.push('PDS_HANDLE must be a valid handle')
  if (jwtSecret && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters')
  if (signingKeyHex && !/^[0-9a-f]{64}$/.test(signingKeyHex)) problems.push('PDS_SIGNING_KEY must be 64 hex characters (a secp256k1 private key)')

  const plcRotationKeyHex = env.PLC_ROTATION_KEY?.trim().toLowerCase() || null
  if (plcRotationKeyHex && !/^[0-9a-f]{64}$/.test(plcRotationKeyHex)) problems.push('PLC_ROTATION_KEY must be 64 hex characters (a secp256k1 private key)')
  if (!plcRotationKeyHex && did.startsWith('did:plc:')) problems.push('PLC_ROTATION_KEY is missing (a did:plc needs it to sign PLC operations)')
  const plcDirectoryUrl = (env.PLC_DIRECTORY_URL || 'https://plc.directory').trim().replace(/\/$/, '')
  const isLocalHost = (host: string) => /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(host)
  const plcProblem = checkPlcUrl(plcDirectoryUrl, isLocalHost(hostname) || env.PROXY_ALLOW_INSECURE === 'true')
  if (plcProblem) problems.push(plcProblem)

  const eventRetentionHours = num('EVENT_RETENTION_HOURS', 72)
  const blobMaxBytes = num('BLOB_MAX_BYTES', 100 * 1024 * 1024)
  const blobTempGraceHours = num('BLOB_TEMP_GRACE_HOURS', 24)
  const uploadIdleMs = num('BLOB_UPLOAD_IDLE_MS', 20_000)
  const appViewUrl = env.BSKY_APPVIEW_URL || 'https://api.bsky.app'
  const chatUrl = env.BSKY_CHAT_URL || 'https://api.bsky.chat'
  const locationHint = env.ACTOR_LOCATION_HINT?.trim() || undefined
  if (locationHint && !LOCATION_HINTS.includes(locationHint)) problems.push(`ACTOR_LOCATION_HINT must be one of ${LOCATION_HINTS.join(', ')}`)
  const logLevel = env.LOG_LEVEL?.trim() || 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`)
  if (problems.length > 0) throw new ConfigError(problems)

  const isLocal = isLocalHost(hostname)
  const config: Config = {
    hostname,
    publicUrl: `${isLocal ? 'http' : 'https'}://${hostname}`,
    did,
    handle,
    adminPassword,
    jwtSecret: new TextEncoder().encode(jwtSecret),
    signingKeyHex,
    relayHosts: relayHosts(env.RELAY_HOSTS, isLocal),
    eventRetentionMs: eventRetentionHours * 3600_000,
    blobMaxBytes,
    blobTempGraceMs: blobTempGraceHours * 3600_000,
    uploadIdleMs,
    appView: { url: appViewUrl.replace(/\/$/, ''), did: env.BSKY_APPVIEW_DID || 'did:web:api.bsky.app' },
    chat: { url: chatUrl.replace(/\/$/, ''), did: env.BSKY_CHAT_DID || 'did:web:api.bsky.chat' },
    plcDirectoryUrl,
    plcRotationKeyHex,
    proxyAllowInsecure: env.PROXY_ALLOW_INSECURE === 'true',
    actorLocationHint: locationHint as DurableObjectLocationHint | undefined,
    d1ReadReplicas: env.D1_READ_REPLICAS === 'true',
    logLevel: logLevel as LogLevel,
  }
  cache.set(env, config)
  // Read once per isolate like the rest, before anything this isolate serves logs.
  setLogLevel(config.logLevel)
  return config
}

/**
 * The PLC directory is https; a plain-http one on loopback (a local PLC for
 * development and tests) only when this PDS itself runs on localhost or with
 * the development switch, never in production.
 */
function checkPlcUrl(value: string, development: boolean): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'PLC_DIRECTORY_URL must be a URL'
  }
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:' && development && /^(localhost|127\.0\.0\.1|\[::1\])$/.test(url.hostname)) return null
  return 'PLC_DIRECTORY_URL must be https (plain http only on loopback in development)'
}
