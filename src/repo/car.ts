import { CarBufferWriter, CarWriter } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { storedCid } from '../lib/cid'

export interface CarBlock {
  cid: { bytes: Uint8Array } | string
  bytes: Uint8Array
}

const toCid = (cid: CarBlock['cid']) => CID.decode(typeof cid === 'string' ? storedCid(cid).bytes : cid.bytes)

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
      async pull(controller) {
        const { value, done } = await iterator.next()
        if (done) {
          await feed
          controller.close()
        } else controller.enqueue(value)
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
