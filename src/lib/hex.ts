// The runtime's own hex codec (TC39 "Uint8Array to/from base64 and hex", in V8 and so in workerd);
// TypeScript's libs do not declare it yet.
declare global {
  interface Uint8Array {
    toHex(): string
  }
  interface Uint8ArrayConstructor {
    fromHex(hex: string): Uint8Array
  }
}

/**
 * Bytes as lowercase hex, for SQLite's `unhex()`. Writes bind block contents and
 * frames this way for the same reason reads ask for `hex()` (below).
 */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex()
}

/**
 * Bytes from SQLite's `hex()` (either case); throws on anything else. Reads ask
 * D1 for hex rather than BLOBs, and writes bind hex: a BLOB crosses D1's JSON
 * protocol as an array of numbers (about four characters and one parsed,
 * validated number per byte), hex as one string of two.
 */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex)
}
