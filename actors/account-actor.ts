import { Server } from 'partyserver'
import type { Env } from '../src/env'

/**
 * The single writer of one account's repo (one instance per account DID,
 * addressed with `idFromName(did)`). Its public methods are the whole RPC
 * contract the Worker relies on.
 */
export class AccountActor extends Server<Env> {
  static options = { hibernate: true }
}
