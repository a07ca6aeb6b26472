/** The inventory of every XRPC method this PDS serves itself, sorted by NSID. */
import type { XrpcMethod } from './method'
import getPreferences from './actor/getPreferences'
import putPreferences from './actor/putPreferences'
import resolveHandle from './identity/resolveHandle'
import listMissingBlobs from './repo/listMissingBlobs'
import uploadBlob from './repo/uploadBlob'
import createAppPassword from './server/createAppPassword'
import createSession from './server/createSession'
import deleteSession from './server/deleteSession'
import describeServer from './server/describeServer'
import getServiceAuth from './server/getServiceAuth'
import getSession from './server/getSession'
import listAppPasswords from './server/listAppPasswords'
import refreshSession from './server/refreshSession'
import revokeAppPassword from './server/revokeAppPassword'
import getBlob from './sync/getBlob'
import listBlobs from './sync/listBlobs'

export const methods: XrpcMethod[] = [
  getPreferences,
  putPreferences,
  resolveHandle,
  listMissingBlobs,
  uploadBlob,
  createAppPassword,
  createSession,
  deleteSession,
  describeServer,
  getServiceAuth,
  getSession,
  listAppPasswords,
  refreshSession,
  revokeAppPassword,
  getBlob,
  listBlobs,
]

export const methodsByNsid = new Map(methods.map((m) => [m.nsid, m]))
