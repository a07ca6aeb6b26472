import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ACCESS_TTL_SECONDS, createTokenPair, Scope, verifyToken } from '../../src/auth/tokens'
import { readConfig } from '../../src/env'
import { TEST_DID } from '../helpers'

afterEach(() => vi.useRealTimers())

/** Verified tokens are remembered per isolate (src/auth/tokens.ts): only the signature's answer, never past expiry. */
describe('verifyToken', () => {
  it('still refuses a remembered token once it expires, and a forged one beside it', async () => {
    const config = readConfig(env)
    const { accessJwt } = await createTokenPair(config, TEST_DID, Scope.Access)
    expect(await verifyToken(config, accessJwt, [Scope.Access])).toMatchObject({ did: TEST_DID, scope: Scope.Access })
    // Remembered now: the second use is answered from memory, with the same result.
    expect(await verifyToken(config, accessJwt, [Scope.Access])).toMatchObject({ did: TEST_DID })
    await expect(verifyToken(config, accessJwt, [Scope.AppPass])).rejects.toMatchObject({ error: 'InvalidToken' })
    const [head, body, sig] = accessJwt.split('.')
    const forged = `${head}.${body}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`
    await expect(verifyToken(config, forged, [Scope.Access])).rejects.toMatchObject({ error: 'InvalidToken' })

    vi.useFakeTimers({ now: Date.now() + (ACCESS_TTL_SECONDS + 1) * 1000 })
    await expect(verifyToken(config, accessJwt, [Scope.Access])).rejects.toMatchObject({ error: 'ExpiredToken' })
  })
})
