import type { Secp256k1Keypair } from '@atproto/crypto'
import { TID } from '@atproto/common-web'
import { cidForLex, encode } from '@atproto/lex-cbor'
import { signCommit } from '@atproto/repo'
import { importSwitchStatements, type ImportSwitch } from '../src/db/importWrites'
import { encodeMessageFrame } from '../src/firehose/frames'
import { storedCid } from '../src/lib/cid'
import { carBytes } from '../src/repo/car'
import { Refusal, type EventJob } from './commitTypes'

/** What the Worker hands over once the imported blocks are staged (plain data). */
export interface ImportRequest extends Omit<ImportSwitch, 'commit'> {
  /** The rev of the imported commit: ours must come after it and after our own. */
  importedRev: string
  /** Replace a repo here that is newer than the imported one (otherwise refused). */
  replace?: boolean
  /** The lease from AccountActor.beginImport: one import at a time. */
  lease: string
  /** False while the DID document points elsewhere (a did:plc being moved in): relays hear nothing yet. */
  announce: boolean
}

/** The MST root of a repo without records. */
const EMPTY_MST = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'

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
    // Importing an older export over newer records (a re-run, a stale CAR) would lose them.
    if (!req.replace && head.dataCid !== EMPTY_MST && head.rev > req.importedRev) {
      throw new Refusal('InvalidRequest', `The repo here (rev ${head.rev}) is newer than the imported one (rev ${req.importedRev}); it was probably imported already. Add ?replace=true to replace it`)
    }
    const rev = TID.nextStr(head.rev > req.importedRev ? head.rev : req.importedRev)
    const commit = await signCommit({ did, version: 3, data: storedCid(req.dataCid), rev, prev: null }, keypair)
    const bytes = encode(commit as never)
    const cid = (await cidForLex(commit as never)).toString()
    const now = Date.now()
    const blocks = carBytes(cid, [{ cid, bytes }])
    return {
      statements: importSwitchStatements(d1, did, { ...req, commit: { cid, rev, bytes } }),
      events: req.announce ? [{ seq, type: 'sync', frame: encodeMessageFrame('#sync', { seq, did, blocks, rev, time: new Date(now).toISOString() }), time: now }] : [],
      moves: { cid, rev, dataCid: req.dataCid },
    }
  }
}
