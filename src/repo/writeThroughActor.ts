import type { ApplyWritesOutcome, ApplyWritesRequest } from '../../actors/commitTypes'
import type { Config, Env } from '../env'
import { currentCost } from '../lib/cost'
import { XrpcError } from '../lib/errors'
import { actorFor } from '../actorStub'

/** Hands validated writes to the account's actor; its refusals become XRPC errors here. */
export async function writeThroughActor(env: Env, config: Config, request: ApplyWritesRequest) {
  const outcome: ApplyWritesOutcome = await actorFor(env, config).applyWrites(request)
  if (!outcome.ok) throw new XrpcError(outcome.status, outcome.error, outcome.message)
  const cost = currentCost()
  if (cost && outcome.cost) cost.actor = outcome.cost
  return outcome
}
