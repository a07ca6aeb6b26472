import { Scope } from '../../auth/tokens'
import { declaredAgePref, listPreferences, PERSONAL_DETAILS_PREF } from '../../db/preferences'
import { query } from '../method'

/** Answered from D1, never proxied: preferences are private account state the PDS keeps. */
export default query('app.bsky.actor.getPreferences', { auth: 'access', oauth: (p, { config }) => p.assertRpc({ lxm: 'app.bsky.actor.getPreferences', aud: `${config.appView.did}#bsky_appview` }) }, async ({ db, auth }) => {
  const stored = await listPreferences(db, auth!.did, 'app.bsky')
  const preferences = [...stored]
  const birthDate = stored.find((p) => p.$type === PERSONAL_DETAILS_PREF)?.birthDate
  const age = typeof birthDate === 'string' ? declaredAgePref(birthDate) : null
  if (age) preferences.push(age)
  const full = auth!.scope === Scope.Access
  return { json: { preferences: full ? preferences : preferences.filter((p) => p.$type !== PERSONAL_DETAILS_PREF) } }
})
