/** The inventory of every XRPC method this PDS serves itself, sorted by NSID. */
import type { XrpcMethod } from './method'
import resolveHandle from './identity/resolveHandle'
import uploadBlob from './repo/uploadBlob'
import createSession from './server/createSession'
import deleteSession from './server/deleteSession'
import describeServer from './server/describeServer'
import getSession from './server/getSession'
import refreshSession from './server/refreshSession'

export const methods: XrpcMethod[] = [
  resolveHandle,
  uploadBlob,
  createSession,
  deleteSession,
  describeServer,
  getSession,
  refreshSession,
]

export const methodsByNsid = new Map(methods.map((m) => [m.nsid, m]))
