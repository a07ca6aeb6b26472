import type { AccountActor } from '../../actors/account-actor'
import type { ApplyWritesOutcome, ApplyWritesRequest } from '../../actors/commitTypes'
import type { Config, Env } from '../env'
import { XrpcError } from '../lib/errors'

/** Hands validated writes to the account's actor; its refusals become XRPC errors here. */
export async function writeThroughActor(env: Env, config: Config, request: ApplyWritesRequest) {
  const outcome: ApplyWritesOutcome = await actorFor(env, config).applyWrites(request)
  if (!outcome.ok) throw new XrpcError(outcome.status, outcome.error, outcome.message)
  return outcome
}

/** The account's actor, addressed by name so partyserver knows it (`this.name`) without an extra RPC. */
export function actorFor(env: Env, config: Config): DurableObjectStub<AccountActor> {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(config.did))
}
