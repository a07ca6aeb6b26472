import type { Config, Env } from '../env'
import { getDb, type Db } from '../db/client'
import { claimJti } from '../db/oauth'
import { resolveClient, type OAuthClientInfo } from './client'
import { authenticateClient, type ClientAuth } from './clientAuth'
import { verifyDpopProof, type DpopProof } from './dpop'
import { invalidDpopProof } from './errors'
import { readParams } from './params'

/** A client's request to the PAR or token endpoint, its DPoP proof and client authentication checked. */
export interface ClientRequest {
  db: Db
  params: Record<string, string>
  proof: DpopProof
  client: OAuthClientInfo
  clientAuth: ClientAuth
}

/**
 * What both client-facing endpoints check first: a DPoP proof for this
 * request, used once; the client's metadata; its authentication for
 * `path` (private_key_jwt audiences name the endpoint).
 */
export async function readClientRequest(req: Request, env: Env, config: Config, path: '/oauth/par' | '/oauth/token'): Promise<ClientRequest> {
  const db = getDb(env.DB)
  const proof = await verifyDpopProof(req, config)
  const params = await readParams(req)
  await recordProof(db, proof)
  const client = await resolveClient(params.client_id ?? '', config, env.CACHE)
  const clientAuth = await authenticateClient(params, client, { config, db, cache: env.CACHE, endpoint: `${config.publicUrl}${path}` })
  return { db, params, proof, client, clientAuth }
}

/** A DPoP proof's `jti` is claimed once: a replayed proof is refused. */
async function recordProof(db: Db, proof: DpopProof): Promise<void> {
  const [claimed] = await claimJti(db, proof.jti, proof.jtiExpiresAt)
  if (!claimed) throw invalidDpopProof('DPoP proof "jti" was already used')
}
