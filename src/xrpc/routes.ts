/** The inventory of every XRPC method this PDS serves itself, sorted by NSID. */
import type { XrpcMethod } from './method'
import resolveHandle from './identity/resolveHandle'
import listMissingBlobs from './repo/listMissingBlobs'
import uploadBlob from './repo/uploadBlob'
import createSession from './server/createSession'
import deleteSession from './server/deleteSession'
import describeServer from './server/describeServer'
import getSession from './server/getSession'
import refreshSession from './server/refreshSession'
import getBlob from './sync/getBlob'
import listBlobs from './sync/listBlobs'

export const methods: XrpcMethod[] = [
  resolveHandle,
  listMissingBlobs,
  uploadBlob,
  createSession,
  deleteSession,
  describeServer,
  getSession,
  refreshSession,
  getBlob,
  listBlobs,
]

export const methodsByNsid = new Map(methods.map((m) => [m.nsid, m]))
