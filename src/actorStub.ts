import type { AccountActor } from '../actors/account-actor'
import type { Config, Env } from './env'

/**
 * The account's actor, addressed by name so partyserver knows it (`this.name`)
 * without an extra RPC. The Worker knows the actor only as this type: `Env`
 * leaves the namespace untyped so that env.ts and the actor, which reads
 * `Env`, do not import each other. The location hint (ACTOR_LOCATION_HINT)
 * places it, when first created, near the D1 primary: every commit is a round
 * trip from the actor to the primary.
 */
export function actorFor(env: Env, config: Config): DurableObjectStub<AccountActor> {
  const id = env.ACCOUNT.idFromName(config.did)
  const stub = config.actorLocationHint ? env.ACCOUNT.get(id, { locationHint: config.actorLocationHint }) : env.ACCOUNT.get(id)
  return stub as unknown as DurableObjectStub<AccountActor>
}
