import type { Config } from '../env'
import type { PlcLogEntry, PlcOperation } from './operation'

const TIMEOUT_MS = 10_000

/** The PLC directory refused an operation or could not be reached; `message` says which and why. */
export class PlcDirectoryError extends Error {
  name = 'PlcDirectoryError'
  constructor(
    message: string,
    /** True when the directory answered 4xx: the operation itself is at fault. */
    readonly rejected = false,
  ) {
    super(message)
  }
}

/**
 * The configured PLC directory (`PLC_DIRECTORY_URL`). Its URL comes from the
 * operator, never from a request, and readConfig allows plain http only on
 * loopback in development.
 */
export class PlcDirectory {
  constructor(private readonly config: Pick<Config, 'plcDirectoryUrl'>) {}

  /** The latest operation in the DID's log. */
  async lastOperation(did: string): Promise<PlcLogEntry> {
    const res = await this.#fetch(`/${did}/log/last`)
    if (!res.ok) throw new PlcDirectoryError(`PLC directory has no operation for ${did} (${res.status}: ${await errorText(res)})`, res.status < 500)
    return (await res.json()) as PlcLogEntry
  }

  /** Submits a signed operation; the directory checks its signature against the current rotation keys. */
  async submit(did: string, op: PlcOperation): Promise<void> {
    const res = await this.#fetch(`/${did}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(op) })
    if (!res.ok) throw new PlcDirectoryError(`PLC directory refused the operation (${res.status}: ${await errorText(res)})`, res.status < 500)
    await res.body?.cancel()
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.config.plcDirectoryUrl}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
    } catch (err) {
      throw new PlcDirectoryError(`PLC directory unreachable: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

async function errorText(res: Response): Promise<string> {
  const text = (await res.text().catch(() => '')).slice(0, 300)
  try {
    const body = JSON.parse(text) as { message?: unknown }
    if (typeof body.message === 'string') return body.message
  } catch {}
  return text || res.statusText
}
