import { and, eq, sql } from 'drizzle-orm'
import type { Db } from './client'
import { preferenceSet } from './schema'

export interface StoredPreference {
  $type: string
  [key: string]: unknown
}

/** The account's preferences in `namespace`, in the order they were put. */
export async function listPreferences(db: Db, did: string, namespace: string): Promise<StoredPreference[]> {
  const row = await db
    .select({ valuesJson: preferenceSet.valuesJson })
    .from(preferenceSet)
    .where(and(eq(preferenceSet.did, did), eq(preferenceSet.namespace, namespace)))
    .get()
  return row ? (JSON.parse(row.valuesJson) as StoredPreference[]) : []
}

/**
 * Replaces the preferences in `namespace` with `values`, except those whose
 * type is in `keep` (which the caller may not touch: they stay, first, in
 * their order). One statement whatever the count, so a put of any size the
 * lexicon allows fits D1, and readers see the old set or the new one.
 */
export async function replacePreferences(db: Db, did: string, namespace: string, values: StoredPreference[], keep: string[] = []): Promise<void> {
  const incoming = JSON.stringify(values)
  // The kept entries of the stored array, then the new ones, merged inside the statement so two puts cannot interleave.
  const merged = keep.length
    ? sql`(select json_group_array(json(value)) from (
        select value, 0 as part, key as pos from json_each(${preferenceSet.valuesJson})
          where json_extract(value, '$."$type"') in (select value from json_each(${JSON.stringify(keep)}))
        union all
        select value, 1, key from json_each(excluded.values_json)
        order by part, pos))`
    : sql`excluded.values_json`
  await db
    .insert(preferenceSet)
    .values({ did, namespace, valuesJson: incoming })
    .onConflictDoUpdate({ target: [preferenceSet.did, preferenceSet.namespace], set: { valuesJson: merged } })
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
