import {
  AccountPermission,
  BlobPermission,
  IdentityPermission,
  IncludeScope,
  isAtprotoOauthScope,
  RepoPermission,
  RpcPermission,
  ScopePermissionsTransition,
} from '@atproto/oauth-scopes'
import { invalidScope } from './errors'

/**
 * Scopes the authorization server understands. Bare `repo`/`rpc` are not
 * scope values (they always take a parameter), so they are not listed.
 */
export const SCOPES_SUPPORTED = ['atproto', 'transition:generic', 'transition:chat.bsky', 'transition:email', 'repo:*', 'blob:*/*', 'account:email', 'account:status', 'account:repo', 'identity:handle', 'identity:*']

/**
 * The scope a request may be granted: the tokens the client asked for that
 * this server can interpret (atproto permission spec). An unknown or
 * unparseable token is dropped, never fatal; a token the client did not
 * declare in its metadata is refused, as is a request without `atproto`.
 * Permission sets (`include:`) are refused here, at PAR, rather than at
 * consent: this server cannot resolve lexicon permission sets yet.
 */
export function grantableScope(requested: string | undefined, declared: string | undefined): string {
  const declaredSet = new Set((declared ?? '').split(' ').filter(Boolean))
  const out: string[] = []
  for (const token of (requested ?? declared ?? '').split(' ')) {
    if (!token || out.includes(token) || !isAtprotoOauthScope(token)) continue
    if (!declaredSet.has(token)) throw invalidScope(`Scope "${token}" is not declared in the client metadata`)
    if (token.startsWith('include:')) {
      throw invalidScope(`Permission set "${IncludeScope.fromString(token)?.nsid ?? token}" cannot be resolved by this server; ask for the repo:/rpc: scopes it contains instead`)
    }
    out.push(token)
  }
  if (!out.includes('atproto')) throw invalidScope('The "atproto" scope is required')
  return out.join(' ')
}

/** What the resource server enforces for a token's scope (transition scopes included). */
export function permissionsFor(scope: string): ScopePermissionsTransition {
  return new ScopePermissionsTransition(scope)
}

/** True when every permission in `requested` is already covered by `granted` (remembered consent). */
export function isCoveredBy(requested: string, granted: string): boolean {
  const grantedTokens = new Set(granted.split(' '))
  const perms = permissionsFor(granted)
  return requested.split(' ').every((token) => {
    if (grantedTokens.has(token)) return true
    const repo = RepoPermission.fromString(token)
    if (repo) return repo.collection.every((collection) => repo.action.every((action) => perms.allowsRepo({ collection, action })))
    const rpc = RpcPermission.fromString(token)
    if (rpc) return rpc.lxm.every((lxm) => perms.allowsRpc({ lxm, aud: rpc.aud }))
    const account = AccountPermission.fromString(token)
    if (account) return account.action.every((action) => perms.allowsAccount({ attr: account.attr, action }))
    const identity = IdentityPermission.fromString(token)
    if (identity) return perms.allowsIdentity({ attr: identity.attr })
    return false
  })
}

/** The consent screen's plain-words list, one line per scope token. */
export function describeScope(scope: string): string[] {
  return scope.split(' ').map(describeToken)
}

function describeToken(token: string): string {
  switch (token) {
    case 'atproto':
      return 'Know who you are: your account’s DID and handle'
    case 'transition:generic':
      return 'Read and write everything in your repository, upload files and act for you on atproto services (not direct messages)'
    case 'transition:chat.bsky':
      return 'Read and send your Bluesky direct messages'
    case 'transition:email':
      return 'See your email address'
  }
  const repo = RepoPermission.fromString(token)
  if (repo) {
    const what = repo.collection.includes('*') ? 'records of any type' : repo.collection.join(', ')
    return `${capitalise(list(repo.action.map((a) => a)))} ${what} in your repository`
  }
  const rpc = RpcPermission.fromString(token)
  if (rpc) {
    const methods = rpc.lxm.includes('*') ? 'any method' : rpc.lxm.join(', ')
    return `Call ${methods} on ${rpc.aud === '*' ? 'any service' : rpc.aud} as you`
  }
  const blob = BlobPermission.fromString(token)
  if (blob) return `Upload files (${blob.accept.join(', ')})`
  const account = AccountPermission.fromString(token)
  if (account) {
    const manage = account.action.includes('manage')
    if (account.attr === 'email') return manage ? 'See and change your email address' : 'See your email address'
    if (account.attr === 'repo') return manage ? 'Import or replace your whole repository' : 'See your repository’s state'
    return manage ? 'Deactivate or reactivate your account' : 'See whether your account is active'
  }
  const identity = IdentityPermission.fromString(token)
  if (identity) return identity.attr === 'handle' ? 'Change your handle' : 'Change your identity (handle and DID document)'
  return token
}

const list = (items: string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`)
const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
