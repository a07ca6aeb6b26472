import { describe, expect, it } from 'vitest'
import { declaredMime, sniffMime } from '../../src/blobs/sniffMime'
import { JPEG, PNG } from './fixtures'

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)))

describe('sniffMime', () => {
  it('recognises the image and video types Bluesky clients upload', () => {
    const size = [0, 0, 0, 0x20]
    expect(sniffMime(PNG)).toBe('image/png')
    expect(sniffMime(JPEG)).toBe('image/jpeg')
    expect(sniffMime(bytes('GIF89a', [1, 0, 1, 0]))).toBe('image/gif')
    expect(sniffMime(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '))).toBe('image/webp')
    expect(sniffMime(bytes(size, 'ftypavif', [0, 0, 0, 0]))).toBe('image/avif')
    expect(sniffMime(bytes(size, 'ftypheic', [0, 0, 0, 0]))).toBe('image/heic')
    expect(sniffMime(bytes(size, 'ftypisom', [0, 0, 2, 0]))).toBe('video/mp4')
    expect(sniffMime(bytes(size, 'ftypqt  ', [0, 0, 2, 0]))).toBe('video/quicktime')
    expect(sniffMime(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84], 'webm'))).toBe('video/webm')
  })

  it('knows nothing about other bytes, so the declared type applies', () => {
    expect(sniffMime(bytes('hello world'))).toBeNull()
    expect(sniffMime(new Uint8Array(0))).toBeNull()
    expect(sniffMime(bytes([0x89, 0x50]))).toBeNull()
    expect(declaredMime('Image/SVG+XML; charset=utf-8')).toBe('image/svg+xml')
    expect(declaredMime('nonsense')).toBeNull()
    expect(declaredMime(null)).toBeNull()
  })
})
