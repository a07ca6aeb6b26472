import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../src/lib/hex'

describe('hex', () => {
  it('round-trips every byte value, reads the upper case SQLite writes, and refuses what is not hex', () => {
    const every = Uint8Array.from({ length: 256 }, (_, i) => i)
    const hex = toHex(every)
    expect(hex).toMatch(/^(?:[0-9a-f]{2}){256}$/)
    expect(hex.slice(0, 8)).toBe('00010203')
    expect(fromHex(hex)).toEqual(every)
    expect(fromHex(hex.toUpperCase())).toEqual(every)
    expect(toHex(new Uint8Array(0))).toBe('')
    expect(toHex(every.subarray(254))).toBe('feff')
    for (const bad of ['0', 'zz', '0g', 'ff0']) expect(() => fromHex(bad)).toThrow()
  })
})
