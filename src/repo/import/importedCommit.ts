import { def, parseObjByDef, verifyCommitSig, type Commit } from '@atproto/repo'
import { isValidTid } from '@atproto/syntax'
import { storedCid } from '../../lib/cid'
import { InvalidRequestError } from '../../lib/errors'

export interface ImportedCommit {
  rev: string
  dataCid: string
}

/**
 * The head commit of an imported repo: for this account's DID, and signed by
 * `signingKey` (the DID document's key while it still names the old host;
 * null when the document already names this PDS's key, against which an
 * export from elsewhere cannot verify).
 */
export async function checkImportedCommit(root: string, bytes: Uint8Array, did: string, signingKey: string | null): Promise<ImportedCommit> {
  let commit
  try {
    commit = parseObjByDef(bytes, storedCid(root), def.versionedCommit).obj
  } catch {
    throw new InvalidRequestError('Invalid repo CAR: its root is not a repo commit')
  }
  if (commit.did !== did) throw new InvalidRequestError(`Invalid repo CAR: the repo is ${commit.did}'s, not ${did}'s`)
  if (!isValidTid(commit.rev)) throw new InvalidRequestError(`Invalid repo CAR: the commit rev ${commit.rev} is not a TID`)
  // The signature covers the commit as it was written (a v2 commit's own fields included).
  if (signingKey !== null && !(await verifyCommitSig(commit as Commit, signingKey))) {
    throw new InvalidRequestError(`Invalid repo CAR: the commit is not signed by ${did}'s key (${signingKey})`)
  }
  return { rev: commit.rev, dataCid: commit.data.toString() }
}

/** The MST root of a repo without records. */
const EMPTY_MST = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'

/**
 * Why an import must not replace the repo here, if it must not: importing an
 * older export over newer records (a re-run, a stale CAR) would lose them,
 * unless the owner asked to replace.
 */
export function staleImport(head: { rev: string; dataCid: string } | null, importedRev: string, replace: boolean): string | null {
  if (replace || !head || head.dataCid === EMPTY_MST || head.rev <= importedRev) return null
  return `The repo here (rev ${head.rev}) is newer than the imported one (rev ${importedRev}); it was probably imported already. Add ?replace=true to replace it`
}
