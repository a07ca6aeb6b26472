// The least each request of the PDS must do, for test/bench/floors.mjs. Plain JS: no build step.
import { DurableObject } from 'cloudflare:workers'

const CONTENT = new Uint8Array(300).fill(7)
// D1 gets bytes as hex, as the PDS sends them (src/lib/hex.ts).
const HEX = [...CONTENT].map((b) => b.toString(16).padStart(2, '0')).join('')
const TABLE = 'CREATE TABLE IF NOT EXISTS r (k TEXT PRIMARY KEY, cid TEXT NOT NULL, content BLOB NOT NULL)'

/** A Durable Object with its own SQLite (where an actor-stored repo would live) and the D1 binding. */
export class Probe extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env)
    ctx.storage.sql.exec(TABLE)
  }
  read(k) {
    return this.ctx.storage.sql.exec('SELECT cid, hex(content) AS content FROM r WHERE k = ?', k).toArray()[0] ?? null
  }
  write(k) {
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO r VALUES (?, ?, ?)', k, 'bafy', CONTENT)
  }
  async writeD1(k, statements) {
    const db = this.env.DB
    await db.batch(Array.from({ length: statements }, (_, i) => db.prepare('INSERT OR REPLACE INTO r VALUES (?, ?, unhex(?))').bind(`${k}.${i}`, 'bafy', HEX)))
  }
}

export default {
  async fetch(req, env) {
    const { searchParams } = new URL(req.url)
    const op = searchParams.get('op')
    const k = searchParams.get('k') ?? '0'
    const probe = env.PROBE.get(env.PROBE.idFromName('probe'))
    switch (op) {
      case 'setup': {
        await env.DB.prepare(TABLE).run()
        for (let i = 0; i < 100; i++) {
          await env.DB.prepare('INSERT OR REPLACE INTO r VALUES (?, ?, unhex(?))').bind(String(i), 'bafy', HEX).run()
          await probe.write(String(i))
        }
        return new Response('ok')
      }
      case 'hello':
        return Response.json({ ok: true })
      case 'd1Read':
        return Response.json(await env.DB.prepare('SELECT cid, hex(content) AS content FROM r WHERE k = ?').bind(k).first())
      case 'doRead':
        return Response.json(await probe.read(k))
      case 'doWrite':
        await probe.write(`w${k}`)
        return Response.json({ ok: true })
      case 'd1Write':
        await probe.writeD1(`w${k}`, 1)
        return Response.json({ ok: true })
      case 'd1Write5':
        await probe.writeD1(`w${k}`, 5)
        return Response.json({ ok: true })
      default:
        return new Response('unknown op', { status: 400 })
    }
  },
}
