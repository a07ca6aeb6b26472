import { appPasswordHash } from '../../auth/password'
import { getAppPassword, insertAppPassword } from '../../db/appPasswords'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  name: string
  privileged?: boolean
}

const MAX_NAME_LENGTH = 100
/** The reference PDS's alphabet and shape: `xxxx-xxxx-xxxx-xxxx`, 80 random bits. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** Only the owner's own session may create one (auth `full`); the password is shown once and stored hashed. */
export default procedure<Input>('com.atproto.server.createAppPassword', { auth: 'full', oauth: 'refuse' }, async ({ db, auth, input }) => {
  const name = input.name.trim()
  if (name.length === 0) throw new InvalidRequestError('App password name must not be empty')
  if (name.length > MAX_NAME_LENGTH) throw new InvalidRequestError(`App password name must be at most ${MAX_NAME_LENGTH} characters`)
  const did = auth!.did
  if (await getAppPassword(db, did, name)) throw new InvalidRequestError(`An app password named "${name}" already exists`)

  const password = generatePassword()
  const privileged = input.privileged ?? false
  try {
    await insertAppPassword(db, { did, name, passwordHash: await appPasswordHash(did, password), privileged })
  } catch (err) {
    // Two concurrent creates with one name: the primary key lets only one in.
    if (await getAppPassword(db, did, name)) throw new InvalidRequestError(`An app password named "${name}" already exists`)
    throw err
  }
  const row = await getAppPassword(db, did, name)
  return { json: { name, password, createdAt: new Date(row?.createdAt ?? Date.now()).toISOString(), privileged } }
})

function generatePassword(): string {
  // 256 is a multiple of 32, so `byte % 32` is uniform.
  const chars = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => ALPHABET[b % 32])
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join('')).join('-')
}
