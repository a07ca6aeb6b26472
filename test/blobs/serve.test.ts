import { describe, expect, it } from 'vitest'
import { parseRange } from '../../src/blobs/serve'

describe('parseRange', () => {
  it('reads one bytes= range and ignores what it cannot use', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ offset: 0, length: 10 })
    expect(parseRange('bytes=90-', 100)).toEqual({ offset: 90, length: 10 })
    expect(parseRange('bytes=-5', 100)).toEqual({ offset: 95, length: 5 })
    expect(parseRange('bytes=50-500', 100)).toEqual({ offset: 50, length: 50 })
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull()
    expect(parseRange(null, 100)).toBeNull()
  })
})
