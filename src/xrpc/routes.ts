/** The inventory of every XRPC method this PDS serves itself, sorted by NSID. */
import type { XrpcMethod } from './method'
import getPreferences from './actor/getPreferences'
import putPreferences from './actor/putPreferences'
import resolveHandle from './identity/resolveHandle'
import updateHandle from './identity/updateHandle'
import listMissingBlobs from './repo/listMissingBlobs'
import uploadBlob from './repo/uploadBlob'
import checkAccountStatus from './server/checkAccountStatus'
import confirmEmail from './server/confirmEmail'
import createAppPassword from './server/createAppPassword'
import createSession from './server/createSession'
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
import getBlob from './sync/getBlob'
import listBlobs from './sync/listBlobs'

export const methods: XrpcMethod[] = [
  getPreferences,
  putPreferences,
  resolveHandle,
  updateHandle,
  listMissingBlobs,
  uploadBlob,
  checkAccountStatus,
  confirmEmail,
  createAppPassword,
  createSession,
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
  listBlobs,
]

export const methodsByNsid = new Map(methods.map((m) => [m.nsid, m]))
