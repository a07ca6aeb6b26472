import type { Config } from '../../env'
import { getAccount } from '../../db/accounts'
import type { Db } from '../../db/client'
import { InvalidRequestError } from '../../lib/errors'

/**
 * Public sync reads answer only for the account this PDS hosts, and not while
 * it is taken down or deactivated (error names from the sync lexicons).
 */
export async function assertRepoAvailable(db: Db, config: Config, did: string): Promise<void> {
  if (did !== config.did) throw new InvalidRequestError(`Could not find repo for DID: ${did}`, 'RepoNotFound')
  const account = await getAccount(db, config)
  if (account.active) return
  if (account.status === 'takendown') throw new InvalidRequestError(`Repo has been takendown: ${did}`, 'RepoTakendown')
  if (account.status === 'suspended') throw new InvalidRequestError(`Repo has been suspended: ${did}`, 'RepoSuspended')
  throw new InvalidRequestError(`Repo has been deactivated: ${did}`, 'RepoDeactivated')
}
