import type { PlcCredentials } from './credentials'
import type { PlcOperation } from './operation'

/**
 * Why an operation submitted through us would not leave the identity hosted
 * here (null when it would): it must keep our rotation key (or we could never
 * change the identity again), name our signing key and endpoint, and the
 * account's handle.
 */
export function operationProblem(op: unknown, want: PlcCredentials): string | null {
  if (typeof op !== 'object' || op === null) return 'operation must be an object'
  const o = op as Partial<PlcOperation>
  if (o.type !== 'plc_operation') return `operation type must be plc_operation, not ${String(o.type)}`
  if (typeof o.sig !== 'string' || !o.sig) return 'operation is not signed'
  if (!Array.isArray(o.rotationKeys) || !o.rotationKeys.includes(want.rotationKeys[0]!)) {
    return `rotationKeys must include this PDS's rotation key ${want.rotationKeys[0]}`
  }
  if (o.verificationMethods?.atproto !== want.verificationMethods.atproto) {
    return `verificationMethods.atproto must be this PDS's signing key ${want.verificationMethods.atproto}`
  }
  const pds = o.services?.atproto_pds
  if (pds?.type !== 'AtprotoPersonalDataServer' || pds.endpoint?.replace(/\/$/, '') !== want.services.atproto_pds.endpoint) {
    return `services.atproto_pds must be {type: AtprotoPersonalDataServer, endpoint: ${want.services.atproto_pds.endpoint}}`
  }
  if (!Array.isArray(o.alsoKnownAs) || o.alsoKnownAs[0] !== want.alsoKnownAs[0]) return `alsoKnownAs must start with ${want.alsoKnownAs[0]}`
  return null
}
