/**
 * The Worker isolate's V8 heap, read over workerd's inspector
 * (INSPECTOR_PORT on `npm start`): what Cloudflare's 128 MB per-isolate
 * limit counts, where workerd's RSS also holds local D1's SQLite and every
 * other isolate. The Worker and its Durable Object share the one isolate.
 */
import WebSocket from 'ws'

export async function heapSampler(inspectorUrl, target = 'core:user:rawkode-pds') {
  const ws = new WebSocket(`${inspectorUrl.replace(/^http/, 'ws')}/${target}`)
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
  let id = 0
  const waiting = new Map()
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data))
    waiting.get(msg.id)?.(msg.result)
    waiting.delete(msg.id)
  })
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      waiting.set(++id, resolve)
      ws.send(JSON.stringify({ id, method, params }))
    })
  const usedMb = async () => (await call('Runtime.getHeapUsage')).usedSize / 1024 / 1024
  return {
    /** The heap now (workerd's inspector does not force a collection: it may hold garbage). */
    now: usedMb,
    /**
     * Samples the heap until the returned stop() is called, which resolves to
     * the peak and the largest heap seen right after a collection (a drop of
     * over 1 MB between samples): V8 collects lazily, so the peak includes
     * garbage, while what survives collections is what the import holds.
     */
    start(everyMs = 20) {
      let peak = 0
      let retained = 0
      let previous = Infinity
      let running = true
      const loop = (async () => {
        while (running) {
          const used = await usedMb()
          peak = Math.max(peak, used)
          if (used < previous - 1) retained = Math.max(retained, used)
          previous = used
          await new Promise((r) => setTimeout(r, everyMs))
        }
      })()
      return async () => {
        running = false
        await loop
        return { peak, retained }
      }
    },
    close: () => ws.close(),
  }
}
