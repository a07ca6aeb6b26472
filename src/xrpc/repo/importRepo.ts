import { getAccount } from '../../db/accounts'
import { dropAbandoned, dropStaged, IMPORT_MARKER_PREFIX } from '../../db/importWrites'
import { getHeadState } from '../../db/repoRoot'
import { exportSigningKey } from '../../identity/exportSigningKey'
import { checkHostedHere } from '../../identity/hostedHere'
import { checkImportedCommit, staleImport, type ImportedCommit } from '../../repo/import/importedCommit'
import { stageCar } from '../../repo/import/stageCar'
import { walkStagedRepo } from '../../repo/import/walkStaged'
import { actorFor } from '../../actorStub'
import { InvalidRequestError, PayloadTooLargeError, XrpcError } from '../../lib/errors'
import { log } from '../../lib/log'
import { procedure } from '../method'

/**
 * The largest CAR taken. Memory no longer bounds it (the CAR streams into D1
 * and is verified from there); Cloudflare's request body limit (100 MB on
 * most plans) usually comes first.
 */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024

/** How often a long import renews its lease with the actor. */
const RENEW_EVERY_MS = 15_000

/**
 * Account migration: the repo exported by the old PDS becomes this account's
 * repo. Streamed into D1 under the actor's import lease (one import at a
 * time), verified from there (commit for this DID signed by its key, MST,
 * every record), then switched in one batch by the actor, which re-signs the
 * head with our key. Blobs follow with uploadBlob; listMissingBlobs says
 * which. An export older than the repo here is refused unless `?replace=true`.
 */
export default procedure('com.atproto.repo.importRepo', { auth: 'full', input: 'raw', oauth: (p) => p.assertAccount({ attr: 'repo', action: 'manage' }) }, async ({ req, env, config, db }) => {
  if ((await getAccount(db, config)).active) {
    throw new InvalidRequestError('Deactivate the account before importing a repo (com.atproto.server.deactivateAccount)')
  }
  if (Number(req.headers.get('content-length') ?? 0) > MAX_IMPORT_BYTES) throw new PayloadTooLargeError(`Repo CAR is larger than ${MAX_IMPORT_BYTES} bytes`)
  if (!req.body || req.headers.get('content-length') === '0') throw new InvalidRequestError('Request body is empty')
  const replace = new URL(req.url).searchParams.get('replace') === 'true'
  const signingKey = await exportSigningKey(config, env.CACHE)

  const actor = actorFor(env, config)
  const begun = await actor.beginImport()
  if (!begun.ok) throw new XrpcError(409, 'ImportInProgress', begun.message)
  const marker = `${IMPORT_MARKER_PREFIX}${begun.lease}`
  let renewed = Date.now()
  const renew = async () => {
    if (Date.now() - renewed < RENEW_EVERY_MS) return
    renewed = Date.now()
    if (!(await actor.renewImport(begun.lease))) throw new InvalidRequestError('The import lease lapsed; start the import again')
  }
  const started = Date.now()
  try {
    // We hold the lease: rows of any other marker are an import that died midway.
    await env.DB.batch(dropAbandoned(env.DB, config.did, marker))
    let imported: ImportedCommit | undefined
    const staged = await stageCar(env.DB, config.did, marker, req.body, {
      maxBytes: MAX_IMPORT_BYTES,
      onProgress: renew,
      // The commit usually comes first: a CAR for another DID, badly signed or stale is refused before the rest is staged.
      onCommit: async (root, bytes) => {
        imported = await checkImportedCommit(root, bytes, config.did, signingKey)
        const stale = staleImport((await getHeadState(env.DB, config.did)).root, imported.rev, replace)
        if (stale) throw new InvalidRequestError(stale)
      },
    })
    const walked = await walkStagedRepo(env.DB, config.did, marker, imported!.dataCid, renew)
    const announce = (await checkHostedHere(config, env.CACHE)).ok
    const outcome = await actor.importRepo({ importedRev: imported!.rev, dataCid: imported!.dataCid, staged: walked, replace, lease: begun.lease, announce })
    if (!outcome.ok) throw new XrpcError(outcome.status, outcome.error, outcome.message)
    log('info', 'repo imported', { records: walked.records, nodes: walked.nodes, blocks: staged.blocks, bytes: staged.bytes, ms: Date.now() - started })
  } catch (err) {
    // Whatever stopped the switch, rows under this marker are this import's own: remove them.
    await env.DB.batch(dropStaged(env.DB, config.did, marker)).catch(() => {})
    throw err
  } finally {
    await actor.endImport(begun.lease)
  }
})
