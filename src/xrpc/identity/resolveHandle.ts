import { normalizeHandle } from '@atproto/syntax'
import { getAccount } from '../../db/accounts'
import { resolveHandleViaAppView, AppViewLookupError } from '../../identity/handleResolution'
import { InvalidRequestError, UpstreamFailureError } from '../../lib/errors'
import { query } from '../method'

/** Our own handle from D1; any other through the AppView. */
export default query('com.atproto.identity.resolveHandle', {}, async ({ db, config, params }) => {
  const handle = normalizeHandle(String(params.handle))
  const account = await getAccount(db, config)
  if (handle === account.handle) return { json: { did: account.did } }
  let did: string | null
  try {
    did = await resolveHandleViaAppView(handle, config)
  } catch (err) {
    if (err instanceof AppViewLookupError) throw new UpstreamFailureError(`Unable to resolve handle: ${err.message}`)
    throw err
  }
  if (!did) throw new InvalidRequestError('Unable to resolve handle', 'HandleNotFound')
  return { json: { did } }
})
