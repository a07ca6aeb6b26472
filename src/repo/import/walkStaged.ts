import { cborToLexRecord, mstUtil, nodeDataDef, parseObjByDef } from '@atproto/repo'
import { isValidNsid, isValidRecordKey } from '@atproto/syntax'
import { readStagedBlocks, stageNodesStatements, stageRecordsStatements, type StagedRecord } from '../../db/importWrites'
import { storedCid } from '../../lib/cid'
import { InvalidRequestError } from '../../lib/errors'
import { findBlobUses } from '../prepareWrites'

/**
 * MST nodes and records read per query (one JSON parameter of CIDs each):
 * large, because D1 counts queries per invocation (1,000 on Workers Paid) and
 * each page costs a read and a staging write; a page's rows stay well under a megabyte.
 */
const NODE_PAGE = 1000
const RECORD_PAGE = 2000

/** A node still to visit, with what its place in the tree allows. */
interface Pending {
  cid: string
  /** Its keys sort after `after` and before `before` (null: no bound). */
  after: string | null
  before: string | null
  /** Its layer is below this one (null: not known yet). */
  below: number | null
}

export interface WalkedRepo {
  nodes: number
  records: number
}

/**
 * Verifies an imported repo from its staged blocks and stages its record
 * index, without ever holding the repo: the MST is walked from `dataCid` a
 * page of nodes at a time (the stack holds only the pages still to visit
 * along the current path), and records are read, decoded and indexed a page
 * at a time. Checks that every node and record block is there and decodes,
 * that keys are valid record paths in strict order across the whole tree, and
 * that layers are consistent (every entry of a node on one layer, subtrees
 * below it), which later commits on this MST rely on. Blocks were checked
 * against their CIDs when staged, so the tree under `dataCid` is exactly the
 * one the old host signed. `onProgress` runs between pages.
 */
export async function walkStagedRepo(d1: D1Database, did: string, marker: string, dataCid: string, onProgress?: () => Promise<void>): Promise<WalkedRepo> {
  const stack: Pending[][] = [[{ cid: dataCid, after: null, before: null, below: null }]]
  let records: { key: string; cid: string }[] = []
  const counts = { nodes: 0, records: 0 }

  const flushRecords = async () => {
    if (records.length === 0) return
    const page = records
    records = []
    const found = await readStagedBlocks(d1, did, [...new Set(page.map((r) => r.cid))])
    const rows: StagedRecord[] = page.map(({ key, cid }) => {
      const bytes = found.get(cid)
      if (!bytes) throw new InvalidRequestError(`Invalid repo CAR: record block ${cid} (${key}) is missing`)
      let record
      try {
        record = cborToLexRecord(bytes)
      } catch (err) {
        throw new InvalidRequestError(`Invalid repo CAR: record ${key} does not decode (${err instanceof Error ? err.message : String(err)})`)
      }
      const [collection, rkey] = key.split('/') as [string, string]
      const blobs = [...new Set(findBlobUses(record, [], { legacy: true }).map((b) => b.cid))]
      return { uri: `at://${did}/${key}`, collection, rkey, cid, blobs }
    })
    await d1.batch(stageRecordsStatements(d1, marker, rows))
    counts.records += rows.length
  }

  while (stack.length > 0) {
    const top = stack.at(-1)!
    const chunk = top.splice(0, NODE_PAGE)
    if (top.length === 0) stack.pop()
    const found = await readStagedBlocks(d1, did, chunk.map((p) => p.cid))
    const children: Pending[] = []
    for (const pending of chunk) {
      const bytes = found.get(pending.cid)
      if (!bytes) throw new InvalidRequestError(`Invalid repo CAR: MST node ${pending.cid} is missing`)
      children.push(...(await checkNode(pending, bytes, records)))
    }
    await d1.batch(stageNodesStatements(d1, marker, chunk.map((p) => p.cid)))
    counts.nodes += chunk.length
    if (children.length > 0) stack.push(children)
    if (records.length >= RECORD_PAGE) await flushRecords()
    await onProgress?.()
  }
  await flushRecords()
  return counts
}

/** One node's checks; its records join `records`, its subtrees are returned to visit. */
async function checkNode(at: Pending, bytes: Uint8Array, records: { key: string; cid: string }[]): Promise<Pending[]> {
  let node
  try {
    node = parseObjByDef(bytes, storedCid(at.cid), nodeDataDef).obj
  } catch {
    throw new InvalidRequestError(`Invalid repo CAR: ${at.cid} is not an MST node`)
  }
  const fail = (why: string): never => {
    throw new InvalidRequestError(`Invalid repo CAR: MST node ${at.cid} ${why}`)
  }
  const keys: string[] = []
  let layer: number | null = null
  let last = ''
  for (const entry of node.e) {
    if (entry.p > last.length) fail(`has a key prefix longer than the previous key`)
    const key = last.slice(0, entry.p) + String.fromCharCode(...entry.k)
    const [collection, rkey, ...rest] = key.split('/')
    if (!mstUtil.isValidMstKey(key) || rest.length > 0 || !isValidNsid(collection!) || !isValidRecordKey(rkey!)) fail(`has an invalid record path: ${key.slice(0, 300)}`)
    if ((keys.length > 0 && key <= last) || (at.after !== null && key <= at.after) || (at.before !== null && key >= at.before)) fail(`has key ${key} out of order`)
    const keyLayer = await mstUtil.leadingZerosOnHash(key)
    if (layer === null) layer = keyLayer
    else if (keyLayer !== layer) fail(`mixes layers ${layer} and ${keyLayer}`)
    keys.push(key)
    records.push({ key, cid: entry.v.toString() })
    last = key
  }
  if (layer !== null && at.below !== null && layer >= at.below) fail(`is on layer ${layer}, not below its parent's ${at.below}`)
  // An empty node passes its parent's bound on; the only empty node with nothing under it is an empty repo's root.
  const below = layer ?? at.below
  const children: Pending[] = []
  if (node.l) children.push({ cid: node.l.toString(), after: at.after, before: keys[0] ?? at.before, below })
  node.e.forEach((entry, i) => {
    if (entry.t) children.push({ cid: entry.t.toString(), after: keys[i]!, before: keys[i + 1] ?? at.before, below })
  })
  if (node.e.length === 0 && !node.l && at.below !== null) fail('is empty')
  return children
}
