import { Repo } from '@atproto/repo'
import type { Secp256k1Keypair } from '@atproto/crypto'
import { ACCOUNT_DEFAULTS, accountInsert, deactivatedAccountInsert } from '../src/db/accounts'
import { blockInserts, commitStatements, rootUpsert } from '../src/db/commitWrites'
import { eventStatements } from '../src/db/events'
import { getHeadState } from '../src/db/repoRoot'
import { encodeMessageFrame } from '../src/firehose/frames'
import { D1Blockstore, type BlockCache } from '../src/repo/blockstore'
import { carBytes } from '../src/repo/car'
import { log } from '../src/lib/log'
import type { CommittedEvent, Head } from './commitTypes'

/** Reads the head from D1; a repo that does not exist yet is created (empty, signed) first. */
export async function loadHead(
  d1: D1Database,
  did: string,
  handle: string,
  cache: BlockCache,
  keypair: Secp256k1Keypair,
  onCommitted: (events: CommittedEvent[]) => void,
  hostedHere: () => Promise<boolean> = async () => true,
): Promise<Head> {
  const { root, seq, active, blocks } = await getHeadState(d1, did)
  for (const b of blocks) cache.set(b.cid, b.bytes)
  if (root) return { ...root, seq, active }
  if (!(await hostedHere())) return createUnannounced(d1, did, handle, cache, keypair, seq)
  return createRepo(d1, did, handle, cache, keypair, seq, onCommitted)
}

/**
 * First start of an identity whose DID document does not point here yet (a
 * did:plc being moved in): an empty signed repo and a deactivated account,
 * and no event, because relays must not hear of it from us before the
 * directory says we host it. activateAccount announces it later.
 */
async function createUnannounced(d1: D1Database, did: string, handle: string, cache: BlockCache, keypair: Secp256k1Keypair, lastSeq: number): Promise<Head> {
  const storage = new D1Blockstore(d1, did, cache)
  const commit = await Repo.formatInitCommit(storage, did, keypair)
  storage.pending.addMap(commit.newBlocks)
  const dataCid = (await Repo.load(storage, commit.cid)).commit.data.toString()
  const head = { cid: commit.cid.toString(), rev: commit.rev, dataCid }
  await d1.batch([
    deactivatedAccountInsert(d1, did, handle),
    ...blockInserts(d1, did, [...commit.newBlocks].map(([cid, bytes]) => ({ cid: cid.toString(), rev: commit.rev, bytes }))),
    rootUpsert(d1, did, head),
  ])
  for (const [cid, bytes] of commit.newBlocks) cache.set(cid.toString(), bytes)
  log('info', 'repo created deactivated', { did, rev: commit.rev })
  return { ...head, seq: lastSeq, active: false }
}

/**
 * First start: an empty repo with a signed commit, the account row, and the
 * events a relay needs to learn of it (#identity, #account, #sync), in one batch.
 */
async function createRepo(
  d1: D1Database,
  did: string,
  handle: string,
  cache: BlockCache,
  keypair: Secp256k1Keypair,
  lastSeq: number,
  onCommitted: (events: CommittedEvent[]) => void,
): Promise<Head> {
  const storage = new D1Blockstore(d1, did, cache)
  const commit = await Repo.formatInitCommit(storage, did, keypair)
  storage.pending.addMap(commit.newBlocks)
  const repo = await Repo.load(storage, commit.cid)
  const dataCid = repo.commit.data.toString()
  const now = Date.now()
  const time = new Date(now).toISOString()
  const identity = { seq: lastSeq + 1, type: 'identity', frame: encodeMessageFrame('#identity', { seq: lastSeq + 1, did, time, handle }), time: now }
  const account = { seq: lastSeq + 2, type: 'account', frame: encodeMessageFrame('#account', { seq: lastSeq + 2, did, time, active: ACCOUNT_DEFAULTS.active }), time: now }
  const syncBlocks = carBytes(commit.cid, [{ cid: commit.cid, bytes: commit.newBlocks.get(commit.cid)! }])
  const sync = { seq: lastSeq + 3, type: 'sync', frame: encodeMessageFrame('#sync', { seq: lastSeq + 3, did, blocks: syncBlocks, rev: commit.rev, time }), time: now }

  const statements = [
    accountInsert(d1, did, handle),
    ...eventStatements(d1, did, [identity, account]),
    ...commitStatements(d1, [{
      did,
      cid: commit.cid.toString(),
      rev: commit.rev,
      dataCid,
      blocks: [...commit.newBlocks].map(([cid, bytes]) => [cid.toString(), bytes]),
      removedCids: [],
      upserts: [],
      deletes: [],
      replaced: [],
      blobRefs: [],
      event: sync,
    }]),
  ]
  await d1.batch(statements)
  for (const [cid, bytes] of commit.newBlocks) cache.set(cid.toString(), bytes)
  log('info', 'repo created', { did, rev: commit.rev, seq: sync.seq })
  onCommitted([identity, account, sync])
  return { cid: commit.cid.toString(), rev: commit.rev, dataCid, seq: sync.seq, active: ACCOUNT_DEFAULTS.active }
}
