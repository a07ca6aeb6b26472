import { Scope } from '../../auth/tokens'
import { DECLARED_AGE_PREF, PERSONAL_DETAILS_PREF, replacePreferences, type StoredPreference } from '../../db/preferences'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  preferences: StoredPreference[]
}

/** Replaces the whole `app.bsky` set at once, as the reference PDS does. */
export default procedure<Input>('app.bsky.actor.putPreferences', { auth: 'access', oauth: (p, { config }) => p.assertRpc({ lxm: 'app.bsky.actor.putPreferences', aud: `${config.appView.did}#bsky_appview` }) }, async ({ db, auth, input }) => {
  for (const pref of input.preferences) {
    if (typeof pref?.$type !== 'string') throw new InvalidRequestError('Preference is missing a $type')
  }
  const outside = input.preferences.filter((p) => !p.$type.startsWith('app.bsky.'))
  if (outside.length > 0) throw new InvalidRequestError('Some preferences are not in the app.bsky namespace')
  const full = auth!.scope === Scope.Access
  if (!full && input.preferences.some((p) => p.$type === PERSONAL_DETAILS_PREF)) {
    throw new InvalidRequestError(`Do not have authorization to set preferences: ${PERSONAL_DETAILS_PREF}`)
  }
  const values = input.preferences.filter((p) => p.$type !== DECLARED_AGE_PREF)
  // An app-password session neither sees nor replaces the personal details.
  await replacePreferences(db, auth!.did, 'app.bsky', values, full ? [] : [PERSONAL_DETAILS_PREF])
})
