import { TEST_DID, xrpc } from '../helpers'

export const COLLECTION = 'com.example.item'

/**
 * One client of a concurrent write load: creates, updates (putRecord),
 * deletes and multi-op applyWrites on its own rkeys, one request per call, so
 * parallel clients queue up at the actor and group commit kicks in (requests
 * queued together share commits). Resolves with the calls that succeeded and
 * the record writes (firehose ops) they made.
 */
export async function driveWrites(token: string, client: number, calls: number, stop?: () => boolean): Promise<{ calls: number; writes: number }> {
  const live: string[] = []
  let next = 0
  const fresh = () => `c${client}-${next++}`
  const value = (n: number) => ({ $type: COLLECTION, client, n, text: `client ${client} write ${n}` })
  const done = { calls: 0, writes: 0 }
  for (let i = 0; i < calls && !stop?.(); i++) {
    const kind = live.length < 2 ? 0 : i % 8
    let res: Awaited<ReturnType<typeof xrpc>>
    if (kind === 3 || kind === 6) {
      // update an existing record (6: upsert of a new one)
      const rkey = kind === 3 ? live[i % live.length]! : fresh()
      if (kind === 6) live.push(rkey)
      res = await xrpc('com.atproto.repo.putRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, rkey, record: value(i) } })
    } else if (kind === 4) {
      const rkey = live.splice(i % live.length, 1)[0]!
      res = await xrpc('com.atproto.repo.deleteRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, rkey } })
    } else if (kind === 5) {
      const [a, b] = [fresh(), fresh()]
      const updated = live[0]!
      const deleted = live.pop()!
      res = await xrpc('com.atproto.repo.applyWrites', {
        token,
        body: {
          repo: TEST_DID,
          writes: [
            { $type: 'com.atproto.repo.applyWrites#create', collection: COLLECTION, rkey: a, value: value(i) },
            { $type: 'com.atproto.repo.applyWrites#update', collection: COLLECTION, rkey: updated, value: value(-i) },
            { $type: 'com.atproto.repo.applyWrites#delete', collection: COLLECTION, rkey: deleted },
            { $type: 'com.atproto.repo.applyWrites#create', collection: COLLECTION, rkey: b, value: value(i + 1_000_000) },
          ],
        },
      })
      live.push(a, b)
    } else {
      const rkey = fresh()
      live.push(rkey)
      res = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, rkey, record: value(i) } })
    }
    if (res.status !== 200) throw new Error(`client ${client} call ${i}: ${res.status} ${res.text}`)
    done.calls++
    done.writes += kind === 5 ? 4 : 1
  }
  return done
}
