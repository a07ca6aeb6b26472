import { parseCidSafe, type Cid } from '@atproto/lex-data'

/**
 * The one CID text parser. A client's text: null when it is not a CID (the
 * caller says which error that is). A well-formed CID of another codec is
 * returned as is: it simply names nothing we hold.
 */
export function parseCid(text: string): Cid | null {
  return parseCidSafe(text)
}

/** A CID this PDS wrote itself (D1 rows, the actor's head): not being one is a bug, so it throws. */
export function storedCid(text: string): Cid {
  const cid = parseCid(text)
  if (!cid) throw new Error(`stored CID is malformed: ${text}`)
  return cid
}
