/** Limits every prepared statement respects, and the one way rows are split to respect them. */

/** JSON parameters and rows of bytes per statement stay well under D1's 2 MB value limit. */
const MAX_PARAM_CHARS = 512 * 1024

/** D1 binds at most 100 parameters per statement. */
export const MAX_PARAMS = 100

/** Splits rows so that no statement carries more than MAX_PARAM_CHARS of data or `maxRows` rows. */
export function chunks<T>(rows: T[], size: (row: T) => number, maxRows = Infinity): T[][] {
  const out: T[][] = []
  let current: T[] = []
  let chars = 0
  for (const row of rows) {
    const n = size(row) + 32
    if (current.length > 0 && (chars + n > MAX_PARAM_CHARS || current.length >= maxRows)) {
      out.push(current)
      current = []
      chars = 0
    }
    current.push(row)
    chars += n
  }
  if (current.length > 0) out.push(current)
  return out
}
