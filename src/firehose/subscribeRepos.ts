import type { Env } from '../env'
import { readConfig } from '../env'
import { actorFor } from '../actorStub'
import { InvalidRequestError } from '../lib/errors'

export const SUBSCRIBE_REPOS = 'com.atproto.sync.subscribeRepos'

/**
 * The firehose is served by the account's actor, which holds the sockets
 * (hibernatable) and broadcasts each commit once D1 has it.
 */
export async function subscribeRepos(req: Request, env: Env): Promise<Response> {
  if (req.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
    throw new InvalidRequestError('subscribeRepos is a WebSocket endpoint: send Upgrade: websocket')
  }
  return actorFor(env, readConfig(env)).fetch(req)
}
