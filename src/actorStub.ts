import type { AccountActor } from '../actors/account-actor'
import type { Config, Env } from './env'

/**
 * The account's actor, addressed by name so partyserver knows it (`this.name`)
 * without an extra RPC. The Worker knows the actor only as this type: `Env`
 * leaves the namespace untyped so that env.ts and the actor, which reads
 * `Env`, do not import each other.
 */
export function actorFor(env: Env, config: Config): DurableObjectStub<AccountActor> {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(config.did)) as unknown as DurableObjectStub<AccountActor>
}
