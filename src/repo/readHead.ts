import type { Config, Env } from '../env'
import { getRepoRoot, type RepoRoot } from '../db/repoRoot'
import { actorFor } from '../actorStub'

/**
 * The committed head, read from D1. Only on a brand-new PDS, before any
 * write, is the actor asked once to create the (empty, signed) repo.
 */
export async function readHead(env: Env, config: Config): Promise<RepoRoot> {
  const root = await getRepoRoot(env.DB, config.did)
  if (root) return root
  const head = await actorFor(env, config).getHead()
  return { did: config.did, cid: head.cid, rev: head.rev }
}
