import type { Config } from '../env'
import { getRotationKey } from './credentials'
import { PlcDirectory } from './directory'
import { nextOperation, signOperation, type PlcOperation, type UnsignedPlcOperation } from './operation'

/** Our rotation key is not (or no longer) one the DID's log accepts: we cannot change the identity. */
export class NotOurIdentityError extends Error {
  name = 'NotOurIdentityError'
}

/**
 * The next operation in the DID's log with `change` applied, signed with our
 * rotation key, which the current operation must list.
 */
export async function signedUpdate(config: Config, change: (op: UnsignedPlcOperation) => UnsignedPlcOperation): Promise<PlcOperation> {
  const key = await getRotationKey(config)
  const current = await nextOperation(await new PlcDirectory(config).lastOperation(config.did))
  if (!current.rotationKeys.includes(key.did())) {
    throw new NotOurIdentityError(`this PDS's rotation key ${key.did()} is not among the rotation keys of ${config.did}; only a key it lists can change it`)
  }
  return signOperation(change(current), key)
}

/** Points the DID's `alsoKnownAs` at the new handle, keeping any non-handle aliases. */
export async function updatePlcHandle(config: Config, handle: string): Promise<void> {
  const op = await signedUpdate(config, (op) => ({ ...op, alsoKnownAs: [`at://${handle}`, ...op.alsoKnownAs.filter((aka) => !aka.startsWith('at://'))] }))
  await new PlcDirectory(config).submit(config.did, op)
}
