/**
 * A PLC directory stand-in for tests in workerd, written from the did:plc
 * spec independently of src/plc: it accepts an operation only if `prev` is
 * the CID of the latest one and one of that operation's rotation keys signed
 * the DAG-CBOR of the operation without `sig`. (The e2e migration tests use
 * the real @did-plc/server.)
 */
import { verifySignature } from '@atproto/crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { base64url } from 'multiformats/bases/base64'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

export type Op = Record<string, any>

export class PlcStandIn {
  readonly logs = new Map<string, Op[]>()

  async cid(op: Op): Promise<string> {
    return CID.createV1(0x71, await sha256.digest(dagCbor.encode(op))).toString()
  }

  async accepts(did: string, op: Op): Promise<string | null> {
    const log = this.logs.get(did)
    if (!log) return 'unknown DID'
    const last = log.at(-1)!
    if (op.prev !== (await this.cid(last))) return 'prev is not the latest operation'
    const { sig, ...unsigned } = op
    const data = dagCbor.encode(unsigned)
    for (const key of last.rotationKeys as string[]) {
      if (await verifySignature(key, data, base64url.baseDecode(sig)).catch(() => false)) return null
    }
    return 'invalid signature'
  }

  handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    const [, did, ...rest] = url.pathname.split('/')
    const log = this.logs.get(did!)
    if (req.method === 'POST') {
      const op = (await req.json()) as Op
      const problem = await this.accepts(did!, op)
      if (problem) return Response.json({ message: problem }, { status: 400 })
      log!.push(op)
      return new Response(null)
    }
    if (!log) return Response.json({ message: 'DID not registered' }, { status: 404 })
    const last = log.at(-1)!
    if (rest.join('/') === 'log/last') return Response.json(last)
    return Response.json({
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: did,
      alsoKnownAs: last.alsoKnownAs,
      verificationMethod: [{ id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: last.verificationMethods.atproto.slice('did:key:'.length) }],
      service: [{ id: '#atproto_pds', type: last.services.atproto_pds.type, serviceEndpoint: last.services.atproto_pds.endpoint }],
    })
  }
}
