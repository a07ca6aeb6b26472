import type { Secp256k1Keypair } from '@atproto/crypto'
import { TID } from '@atproto/common-web'
import { cidForLex, encode } from '@atproto/lex-cbor'
import { signCommit } from '@atproto/repo'
import { IMPORT_MARKER_PREFIX, importSwitchStatements } from '../src/db/importWrites'
import { staleImport } from '../src/repo/import/importedCommit'
import { encodeMessageFrame } from '../src/firehose/frames'
import { storedCid } from '../src/lib/cid'
import { carBytes } from '../src/repo/car'
import { Refusal, type EventJob } from './commitTypes'

/** What the Worker hands over once the imported repo is staged and verified (plain data; the rows stay in D1). */
export interface ImportRequest {
  /** The imported commit's MST root. */
  dataCid: string
  /** What the Worker's walk staged (import_node, import_record rows). */
  staged: { nodes: number; records: number }
  /** The rev of the imported commit: ours must come after it and after our own. */
  importedRev: string
  /** Replace a repo here that is newer than the imported one (otherwise refused). */
  replace?: boolean
  /** The lease from AccountActor.beginImport (one import at a time); it names the staged rows. */
  lease: string
  /** False while the DID document points elsewhere (a did:plc being moved in): relays hear nothing yet. */
  announce: boolean
}

/**
 * Replaces the repo with an imported one (account migration). The imported
 * MST is kept as it is; the commit over it is signed anew with this PDS's key
 * and a rev after both histories, so the repo verifies against our DID
 * document. Relays learn of it with #sync (once the DID document points
 * here; activation sends one anyway). Only while the account is
 * deactivated, as in the migration flow: no write can interleave.
 */
export function repoImport(d1: D1Database, did: string, keypair: Secp256k1Keypair, req: ImportRequest): EventJob['build'] {
  return async (seq, head) => {
    if (head.active) throw new Refusal('InvalidRequest', 'Deactivate the account before importing a repo (com.atproto.server.deactivateAccount)')
    const stale = staleImport(head, req.importedRev, req.replace ?? false)
    if (stale) throw new Refusal('InvalidRequest', stale)
    const rev = TID.nextStr(head.rev > req.importedRev ? head.rev : req.importedRev)
    const commit = await signCommit({ did, version: 3, data: storedCid(req.dataCid), rev, prev: null }, keypair)
    const bytes = encode(commit as never)
    const cid = (await cidForLex(commit as never)).toString()
    const now = Date.now()
    const blocks = carBytes(cid, [{ cid, bytes }])
    return {
      statements: importSwitchStatements(d1, did, { marker: `${IMPORT_MARKER_PREFIX}${req.lease}`, staged: req.staged, dataCid: req.dataCid, commit: { cid, rev, bytes } }),
      events: req.announce ? [{ seq, type: 'sync', frame: encodeMessageFrame('#sync', { seq, did, blocks, rev, time: new Date(now).toISOString() }), time: now }] : [],
      moves: { cid, rev, dataCid: req.dataCid },
    }
  }
}
