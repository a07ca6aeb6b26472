/**
 * The inventory of every endpoint: the XRPC methods this PDS serves itself
 * (sorted by NSID), then the plain HTTP routes. src/index.ts dispatches from
 * here; an NSID not listed goes to the proxy.
 */
import type { Env } from '../env'
import { getBlobByPath } from '../blobs/blobByPath'
import { SUBSCRIBE_REPOS, subscribeRepos } from '../firehose/subscribeRepos'
import { oauthRoutes } from '../oauth/routes'
import { statusInspect, statusPage, statusSignIn, statusSignOut } from '../status/routes'
import { atprotoDid, didJson } from '../wellKnown'
import type { XrpcMethod } from './method'
import getPreferences from './actor/getPreferences'
import putPreferences from './actor/putPreferences'
import getRecommendedDidCredentials from './identity/getRecommendedDidCredentials'
import requestPlcOperationSignature from './identity/requestPlcOperationSignature'
import resolveHandle from './identity/resolveHandle'
import signPlcOperation from './identity/signPlcOperation'
import submitPlcOperation from './identity/submitPlcOperation'
import updateHandle from './identity/updateHandle'
import applyWrites from './repo/applyWrites'
import createRecord from './repo/createRecord'
import deleteRecord from './repo/deleteRecord'
import describeRepo from './repo/describeRepo'
import getRecord from './repo/getRecord'
import importRepo from './repo/importRepo'
import listMissingBlobs from './repo/listMissingBlobs'
import listRecords from './repo/listRecords'
import putRecord from './repo/putRecord'
import uploadBlob from './repo/uploadBlob'
import activateAccount from './server/activateAccount'
import checkAccountStatus from './server/checkAccountStatus'
import confirmEmail from './server/confirmEmail'
import createAccount from './server/createAccount'
import createAppPassword from './server/createAppPassword'
import createSession from './server/createSession'
import deactivateAccount from './server/deactivateAccount'
import deleteSession from './server/deleteSession'
import describeServer from './server/describeServer'
import getAccountInviteCodes from './server/getAccountInviteCodes'
import getServiceAuth from './server/getServiceAuth'
import getSession from './server/getSession'
import listAppPasswords from './server/listAppPasswords'
import refreshSession from './server/refreshSession'
import requestEmailConfirmation from './server/requestEmailConfirmation'
import requestEmailUpdate from './server/requestEmailUpdate'
import revokeAppPassword from './server/revokeAppPassword'
import updateEmail from './server/updateEmail'
import { health } from './health'
import getBlob from './sync/getBlob'
import ownerGetCrawlStatus from './owner/getCrawlStatus'
import ownerRequestCrawl from './owner/requestCrawl'
import ownerRevealPlcOperationToken from './owner/revealPlcOperationToken'
import getBlocks from './sync/getBlocks'
import getLatestCommit from './sync/getLatestCommit'
import syncGetRecord from './sync/getRecord'
import getRepo from './sync/getRepo'
import getRepoStatus from './sync/getRepoStatus'
import listBlobs from './sync/listBlobs'
import listRepos from './sync/listRepos'

export const methods: XrpcMethod[] = [
  getPreferences,
  putPreferences,
  getRecommendedDidCredentials,
  requestPlcOperationSignature,
  resolveHandle,
  signPlcOperation,
  submitPlcOperation,
  updateHandle,
  applyWrites,
  createRecord,
  deleteRecord,
  describeRepo,
  getRecord,
  importRepo,
  listMissingBlobs,
  listRecords,
  putRecord,
  uploadBlob,
  activateAccount,
  checkAccountStatus,
  confirmEmail,
  createAccount,
  createAppPassword,
  createSession,
  deactivateAccount,
  deleteSession,
  describeServer,
  getAccountInviteCodes,
  getServiceAuth,
  getSession,
  listAppPasswords,
  refreshSession,
  requestEmailConfirmation,
  requestEmailUpdate,
  revokeAppPassword,
  updateEmail,
  getBlob,
  getBlocks,
  getLatestCommit,
  syncGetRecord,
  getRepo,
  getRepoStatus,
  listBlobs,
  listRepos,
  ownerGetCrawlStatus,
  ownerRequestCrawl,
  ownerRevealPlcOperationToken,
]

export const methodsByNsid = new Map(methods.map((m) => [m.nsid, m]))

export interface HttpRoute {
  method: 'GET' | 'POST'
  path: string
  /** Logged as the request's NSID. */
  nsid?: string
  handler(req: Request, env: Env, params: Record<string, string>): Response | Promise<Response>
}

/** Endpoints that are not lexicon methods of ours, or not plain XRPC calls. */
export const httpRoutes: HttpRoute[] = [
  // The status page: public identity; the owner's figures after signing in (src/status/).
  { method: 'GET', path: '/', handler: statusPage },
  { method: 'POST', path: '/status/login', handler: statusSignIn },
  { method: 'POST', path: '/status/logout', handler: statusSignOut },
  { method: 'GET', path: '/status/inspect.json', handler: statusInspect },
  { method: 'GET', path: '/.well-known/atproto-did', handler: atprotoDid },
  { method: 'GET', path: '/.well-known/did.json', handler: didJson },
  { method: 'GET', path: '/blobs/:cid', handler: getBlobByPath },
  { method: 'GET', path: '/xrpc/_health', handler: health },
  // A WebSocket upgrade, handed to the account's actor.
  { method: 'GET', path: `/xrpc/${SUBSCRIBE_REPOS}`, nsid: SUBSCRIBE_REPOS, handler: subscribeRepos },
  // OAuth discovery, the authorization server and the owner's app list (src/oauth/routes.ts).
  ...oauthRoutes,
]
