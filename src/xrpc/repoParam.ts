import type { Config } from '../env'
import { getAccount } from '../db/accounts'
import type { Db } from '../db/client'
import { InvalidRequestError } from '../lib/errors'

/** The `repo`/`did` parameter of this PDS's methods names its one account, by DID or handle. */

/** Our account DID when `repo` names it, else null. */
export async function ownRepo(db: Db, config: Config, repo: string): Promise<string | null> {
  if (repo === config.did) return repo
  if (namesAccount(repo, config, (await getAccount(db, config)).handle)) return config.did
  return null
}

/** Whether `repo` is our DID or the account's current handle (when the caller already has it). */
export function namesAccount(repo: string, config: Config, handle: string): boolean {
  return repo === config.did || repo.toLowerCase() === handle
}

/** Reads: our account DID, or RepoNotFound. */
export async function resolveRepo(db: Db, config: Config, repo: string): Promise<string> {
  const did = await ownRepo(db, config, repo)
  if (!did) throw new InvalidRequestError(`Could not find repo: ${repo}`, 'RepoNotFound')
  return did
}

/** Writes: the repo must be the account itself. */
export async function assertOwnRepo(db: Db, config: Config, repo: unknown): Promise<void> {
  if (typeof repo !== 'string' || !(await ownRepo(db, config, repo))) throw new InvalidRequestError(`Could not find repo: ${String(repo)}`)
}
