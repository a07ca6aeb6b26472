const NIBBLE = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i
}

const BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * Bytes as lowercase hex, for SQLite's `unhex()`. Writes bind block contents and
 * frames this way for the same reason bulk reads ask for `hex()` (below).
 */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += BYTE[bytes[i]!]
  return out
}

/**
 * Bytes from SQLite's `hex()`. Reads ask D1 for hex rather than BLOBs, and
 * writes bind hex: a BLOB crosses D1's JSON protocol as an array of numbers
 * (about four characters and one parsed, validated number per byte), hex as
 * one string of two.
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error('not hex')
  const out = new Uint8Array(hex.length >>> 1)
  for (let i = 0; i < out.length; i++) {
    const hi = NIBBLE[hex.charCodeAt(2 * i)] ?? -1
    const lo = NIBBLE[hex.charCodeAt(2 * i + 1)] ?? -1
    if (hi < 0 || lo < 0) throw new Error('not hex')
    out[i] = (hi << 4) | lo
  }
  return out
}
