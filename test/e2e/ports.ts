/** Loopback ports for the servers e2e tests start by number (wrangler, the reference PDS, an OAuth app). */
import { readFileSync } from 'node:fs'
import net from 'node:net'

/**
 * The first port of the kernel's ephemeral range: sockets bound to port 0 and
 * outgoing connections take their ports from there, so a port below it that is
 * free now stays free until a server binds it by number. A port from listen(0)
 * does not: other test files running in parallel (workerd's own sockets,
 * clients) can take it in between, and wrangler then waits for it forever.
 */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768
  } catch {
    return 32768 // Linux's default; macOS starts at 49152
  }
}

const LOWEST = 10_000

/** A free loopback port below the ephemeral range; with `span`, the ports after it up to span - 1 are free too. */
export async function freePort(span = 1): Promise<number> {
  const highest = ephemeralStart() - span
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST))
    let free = true
    for (let i = 0; i < span && free; i++) free = await isFree(port + i)
    if (free) return port
  }
}

function isFree(port: number): Promise<boolean> {
  const server = net.createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
