import { and, asc, eq, like, notInArray } from 'drizzle-orm'
import type { Db } from './client'
import { preference } from './schema'

export interface StoredPreference {
  $type: string
  [key: string]: unknown
}

/** The account's preferences in `namespace`, in the order they were put. */
export async function listPreferences(db: Db, did: string, namespace: string): Promise<StoredPreference[]> {
  const rows = await db
    .select()
    .from(preference)
    .where(and(eq(preference.did, did), like(preference.name, `${namespace}.%`)))
    .orderBy(asc(preference.id))
    .all()
  return rows.map((row) => JSON.parse(row.valueJson) as StoredPreference)
}

/**
 * Replaces the preferences in `namespace` with `values`, except the types in
 * `keep` (which the caller may not touch). One D1 batch: readers see the old
 * set or the new one, never a mix.
 */
export async function replacePreferences(db: Db, did: string, namespace: string, values: StoredPreference[], keep: string[] = []): Promise<void> {
  const scope = and(eq(preference.did, did), like(preference.name, `${namespace}.%`))
  await db.batch([
    db.delete(preference).where(keep.length ? and(scope, notInArray(preference.name, keep)) : scope),
    ...values.map((value) => db.insert(preference).values({ did, name: value.$type, valueJson: JSON.stringify(value) })),
  ])
}

/** Birth date and the like: only the owner's own session may read or write it (reference PDS). */
export const PERSONAL_DETAILS_PREF = 'app.bsky.actor.defs#personalDetailsPref'
/** Derived from the birth date on read; never stored from a client. */
export const DECLARED_AGE_PREF = 'app.bsky.actor.defs#declaredAgePref'

/** The age flags the reference PDS derives from `personalDetailsPref.birthDate`. */
export function declaredAgePref(birthDate: string, now = new Date()): StoredPreference | null {
  const born = new Date(birthDate)
  if (Number.isNaN(born.getTime())) return null
  let age = now.getUTCFullYear() - born.getUTCFullYear()
  const months = now.getUTCMonth() - born.getUTCMonth()
  if (months < 0 || (months === 0 && now.getUTCDate() < born.getUTCDate())) age--
  return { $type: DECLARED_AGE_PREF, isOverAge13: age >= 13, isOverAge16: age >= 16, isOverAge18: age >= 18 }
}
