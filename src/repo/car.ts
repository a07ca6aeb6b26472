import { CarBufferWriter, CarWriter } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { storedCid } from '../lib/cid'

export interface CarBlock {
  cid: { bytes: Uint8Array } | string
  bytes: Uint8Array
}

const toCid = (cid: CarBlock['cid']) => CID.decode(typeof cid === 'string' ? storedCid(cid).bytes : cid.bytes)

const CHUNK_BYTES = 64 * 1024

function concat(pieces: Uint8Array[], size: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const piece of pieces) {
    out.set(piece, offset)
    offset += piece.byteLength
  }
  return out
}

/**
 * A CAR v1 with one root, produced as blocks arrive: memory stays bounded by
 * what the consumer has not read yet, whatever the repo's size.
 */
export function carStream(root: CarBlock['cid'] | null, blocks: AsyncIterable<CarBlock> | Iterable<CarBlock>): ReadableStream<Uint8Array> {
  const { writer, out } = CarWriter.create(root === null ? [] : [toCid(root)])
  const feed = (async () => {
    try {
      for await (const block of blocks) await writer.put({ cid: toCid(block.cid) as never, bytes: block.bytes })
    } finally {
      await writer.close()
    }
  })()
  const iterator = out[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>(
    {
      // The writer yields two or three small pieces per block: hand them on in chunks of
      // about CHUNK_BYTES, or every piece pays its own trip through the stream and the socket.
      async pull(controller) {
        const pieces: Uint8Array[] = []
        let size = 0
        while (size < CHUNK_BYTES) {
          const { value, done } = await iterator.next()
          if (done) {
            if (size > 0) controller.enqueue(concat(pieces, size))
            await feed
            controller.close()
            return
          }
          pieces.push(value)
          size += value.byteLength
        }
        controller.enqueue(concat(pieces, size))
      },
      async cancel() {
        await iterator.return?.()
      },
    },
    { highWaterMark: 4 },
  )
}

/**
 * A small CAR (firehose `blocks`, getBlocks), built synchronously into one
 * exactly-sized buffer: this runs on the commit path for every commit.
 */
export function carBytes(root: CarBlock['cid'] | null, blocks: Iterable<CarBlock>): Uint8Array {
  const roots = root === null ? [] : [toCid(root)]
  const list = [...blocks].map((b) => ({ cid: toCid(b.cid), bytes: b.bytes }))
  const headerSize = CarBufferWriter.headerLength({ roots: roots as never })
  const size = list.reduce((n, b) => n + CarBufferWriter.blockLength(b as never), headerSize)
  const writer = CarBufferWriter.createWriter(new ArrayBuffer(size), { roots: roots as never, headerSize })
  for (const block of list) writer.write(block as never)
  return writer.close()
}
