import { cborToLex, readCarWithRoot, verifyRepo } from '@atproto/repo'
import { getAccount } from '../../db/accounts'
import { dropStaged, stagingBatches } from '../../db/importWrites'
import { checkHostedHere } from '../../identity/hostedHere'
import { findBlobUses } from '../../repo/prepareWrites'
import { actorFor } from '../../actorStub'
import { InvalidRequestError, PayloadTooLargeError, XrpcError } from '../../lib/errors'
import { procedure } from '../method'

/** A CAR this size is parsed in memory next to its blocks; Workers have 128 MB. */
export const MAX_IMPORT_BYTES = 32 * 1024 * 1024

/**
 * Account migration: the repo exported by the old PDS becomes this account's
 * repo. Verified first (DID, MST, every record present), staged into D1, then
 * switched in one batch by the actor, which re-signs the head with our key.
 * Blobs follow with uploadBlob; listMissingBlobs says which. One import at
 * a time (the actor's lease); an export older than the repo here is refused
 * unless `?replace=true`.
 */
export default procedure('com.atproto.repo.importRepo', { auth: 'full', input: 'raw', oauth: (p) => p.assertAccount({ attr: 'repo', action: 'manage' }) }, async ({ req, env, config, db }) => {
  if ((await getAccount(db, config)).active) {
    throw new InvalidRequestError('Deactivate the account before importing a repo (com.atproto.server.deactivateAccount)')
  }
  if (Number(req.headers.get('content-length') ?? 0) > MAX_IMPORT_BYTES) throw new PayloadTooLargeError(`Repo CAR is larger than ${MAX_IMPORT_BYTES} bytes`)
  const car = new Uint8Array(await req.arrayBuffer())
  if (car.byteLength > MAX_IMPORT_BYTES) throw new PayloadTooLargeError(`Repo CAR is larger than ${MAX_IMPORT_BYTES} bytes`)
  if (car.byteLength === 0) throw new InvalidRequestError('Request body is empty')

  let imported
  let root
  try {
    const parsed = await readCarWithRoot(car)
    root = parsed.root
    imported = await verifyRepo(parsed.blocks, parsed.root, config.did)
  } catch (err) {
    throw new InvalidRequestError(`Invalid repo CAR: ${err instanceof Error ? err.message : String(err)}`)
  }
  const blocks = [...imported.commit.newBlocks].filter(([cid]) => !cid.equals(root)).map(([cid, bytes]) => ({ cid: cid.toString(), bytes }))
  const records = imported.creates.map((c) => ({ uri: `at://${config.did}/${c.collection}/${c.rkey}`, collection: c.collection, rkey: c.rkey, cid: c.cid.toString() }))
  const contents = new Map(blocks.map((b) => [b.cid, b.bytes]))
  const blobRefs = records.flatMap((r) => findBlobUses(cborToLex(contents.get(r.cid)!), [], { legacy: true }).map((b) => ({ uri: r.uri, blobCid: b.cid })))
  const dataCid = String((cborToLex(imported.commit.newBlocks.get(root)!) as { data: unknown }).data)

  const actor = actorFor(env, config)
  const begun = await actor.beginImport()
  if (!begun.ok) throw new XrpcError(409, 'ImportInProgress', begun.message)
  const marker = `import-${begun.lease}`
  const replace = new URL(req.url).searchParams.get('replace') === 'true'
  const announce = (await checkHostedHere(config, env.CACHE)).ok
  try {
    for (const batch of stagingBatches(env.DB, config.did, marker, blocks)) await env.DB.batch(batch)
    const outcome = await actor.importRepo({ importedRev: imported.commit.rev, dataCid, blockCids: blocks.map((b) => b.cid), records, blobRefs, replace, lease: begun.lease, announce })
    if (!outcome.ok) throw new XrpcError(outcome.status, outcome.error, outcome.message)
  } catch (err) {
    // Whatever stopped the switch, staged blocks are this import's own (no other runs meanwhile): remove them.
    await env.DB.batch([dropStaged(env.DB, config.did, marker)]).catch(() => {})
    throw err
  } finally {
    await actor.endImport(begun.lease)
  }
})
