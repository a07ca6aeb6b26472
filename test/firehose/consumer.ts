import { decodeFrame } from '../../src/firehose/frames'
import { worker } from '../helpers'

export interface Frame {
  header: { op: number; t?: string }
  body: Record<string, any>
}

/** A subscribeRepos client over a real WebSocket to the Worker under test. */
export class FirehoseClient {
  frames: Frame[] = []
  errors: string[] = []
  closed: { code: number; reason: string } | null = null
  #waiters: (() => void)[] = []
  #chain: Promise<void> = Promise.resolve()

  private constructor(readonly ws: WebSocket) {
    ws.accept()
    // Messages may arrive as Blobs; decode them in arrival order.
    ws.addEventListener('message', (e) => {
      const d: unknown = e.data
      this.#chain = this.#chain.then(async () => {
        if (typeof d === 'string') {
          this.errors.push(`text message: ${d.slice(0, 200)}`)
        } else {
          const bytes = d instanceof Blob ? new Uint8Array(await d.arrayBuffer()) : new Uint8Array(d as ArrayBuffer)
          this.frames.push(decodeFrame(bytes) as Frame)
        }
        this.#wake()
      })
    })
    ws.addEventListener('close', (e) => {
      this.#chain = this.#chain.then(() => {
        this.closed = { code: e.code, reason: e.reason }
        this.#wake()
      })
    })
  }

  static async connect(cursor?: number | string): Promise<FirehoseClient> {
    const url = new URL('https://pds.test/xrpc/com.atproto.sync.subscribeRepos')
    if (cursor !== undefined) url.searchParams.set('cursor', String(cursor))
    const res = await worker.fetch(url.toString(), { headers: { upgrade: 'websocket' } })
    if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`)
    return new FirehoseClient(res.webSocket)
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w()
  }

  /** Resolves when `pred` holds over the frames received so far (or throws after timeoutMs). */
  async until(pred: (frames: Frame[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!pred(this.frames)) {
      if (this.errors.length > 0) throw new Error(this.errors.join('; '))
      if (this.closed && !pred(this.frames)) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) after ${this.frames.length} frames`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out with ${this.frames.length} frames`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200))
        this.#waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  seqs(): number[] {
    return this.frames.filter((f) => f.header.op === 1 && typeof f.body.seq === 'number').map((f) => f.body.seq)
  }

  close() {
    try {
      this.ws.close(1000, 'done')
    } catch {}
  }
}

export { CommitVerifier } from './verifier'

export async function didKeyFromDidDoc(): Promise<string> {
  const doc: any = await (await worker.fetch('https://pds.test/.well-known/did.json')).json()
  return `did:key:${doc.verificationMethod[0].publicKeyMultibase}`
}
