import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { TEST_DID } from '../helpers'
import { useNetwork, type Network } from '../standIns'
import { approve, dpopProof, dpopXrpc, freshNonce, newDpopKey, ORIGIN, postForm, sha256b64url, type DpopKey } from './client'

/**
 * A confidential web client (private_key_jwt), its metadata and key set
 * served by a stand-in origin. The key set mixes an encryption key with the
 * signing key, as real deployments do.
 */
async function confidentialClient(name: string, opts: { jwksUri?: boolean; omitAuthMethod?: boolean } = {}) {
  const origin = `https://${name}.example`
  const clientId = `${origin}/client-metadata.json`
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const enc = await generateKeyPair('RSA-OAEP-256', { extractable: true })
  // key_ops mixing signing and encryption operations, as @atproto/jwk publishes them.
  const sigJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'sig-1', alg: 'ES256', key_ops: ['verify', 'encrypt', 'wrapKey'] }
  const encJwk: JWK = { ...(await exportJWK(enc.publicKey)), kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP-256' }
  const keys = { keys: [encJwk, sigJwk] }
  const metadata: Record<string, unknown> = {
    client_id: clientId,
    client_name: `Confidential ${name}`,
    client_uri: origin,
    redirect_uris: [`${origin}/callback`],
    scope: 'atproto transition:generic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    dpop_bound_access_tokens: true,
    token_endpoint_auth_signing_alg: 'ES256',
    ...(opts.omitAuthMethod ? {} : { token_endpoint_auth_method: 'private_key_jwt' }),
    ...(opts.jwksUri ? { jwks_uri: `${origin}/jwks.json` } : { jwks: keys }),
  }
  const handler = (req: Request) => {
    const path = new URL(req.url).pathname
    if (path === '/client-metadata.json') return Response.json(metadata)
    if (path === '/jwks.json') return Response.json(keys)
    return new Response('not found', { status: 404 })
  }
  const assertion = (audience = ORIGIN) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'sig-1' }).setIssuer(clientId).setSubject(clientId).setAudience(audience).setJti(crypto.randomUUID()).setIssuedAt().sign(privateKey)
  return { origin, clientId, handler, assertion, redirect: `${origin}/callback` }
}

type Client = Awaited<ReturnType<typeof confidentialClient>>
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

async function post(path: string, key: DpopKey, form: Record<string, string>) {
  const proof = await dpopProof(key, { htm: 'POST', htu: `${ORIGIN}${path}`, nonce: await freshNonce() })
  return postForm(path, form, { dpop: proof })
}

async function pushRequest(client: Client, key: DpopKey, auth: Record<string, string>) {
  const verifier = `${crypto.randomUUID()}${crypto.randomUUID()}`
  const res = await post('/oauth/par', key, {
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: client.redirect,
    code_challenge: await sha256b64url(verifier),
    code_challenge_method: 'S256',
    state: 'st',
    scope: 'atproto transition:generic',
    ...auth,
  })
  return { res, verifier }
}

let network: Network | null = null
afterEach(() => {
  network?.restore()
  network = null
})

describe('confidential clients (private_key_jwt)', () => {
  for (const jwksUri of [false, true]) {
    it(`sign in, write and refresh with client assertions (${jwksUri ? 'jwks_uri' : 'inline jwks'}, mixed sig/enc keys)`, async () => {
      const client = await confidentialClient(jwksUri ? 'remote-keys' : 'inline-keys', { jwksUri })
      network = useNetwork({ [client.origin]: client.handler })
      const key = await newDpopKey()
      const { res, verifier } = await pushRequest(client, key, { client_assertion_type: JWT_BEARER, client_assertion: await client.assertion() })
      expect(res.status).toBe(201)

      const approved = await approve({ requestUri: res.json.request_uri, clientId: client.clientId, verifier, state: 'st' })
      expect(approved.status).toBe(303)
      const code = new URL(approved.location!).searchParams.get('code')!

      const noAuth = await post('/oauth/token', key, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: client.redirect, client_id: client.clientId })
      expect(noAuth.status).toBe(401)
      expect(noAuth.json.error).toBe('invalid_client')

      const tokens = await post('/oauth/token', key, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: client.redirect, client_id: client.clientId, client_assertion_type: JWT_BEARER, client_assertion: await client.assertion() })
      expect(tokens.status).toBe(200)
      expect(tokens.json.sub).toBe(TEST_DID)
      const write = await dpopXrpc(key, tokens.json.access_token, 'com.atproto.repo.createRecord', { body: { repo: TEST_DID, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'confidential', createdAt: new Date().toISOString() } } })
      expect(write.status).toBe(200)

      const reused = await client.assertion()
      const refreshed = await post('/oauth/token', key, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token, client_id: client.clientId, client_assertion_type: JWT_BEARER, client_assertion: reused })
      expect(refreshed.status).toBe(200)
      // An assertion is single-use.
      const replayed = await post('/oauth/token', key, { grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token, client_id: client.clientId, client_assertion_type: JWT_BEARER, client_assertion: reused })
      expect(replayed.json.error).toBe('invalid_client')
      // The metadata document was fetched once and then served from the KV cache.
      expect(network.requests.filter((r) => r.endsWith('/client-metadata.json'))).toHaveLength(1)
    })
  }

  it('refuses an assertion for another audience, and a PAR without one', async () => {
    const client = await confidentialClient('audience')
    network = useNetwork({ [client.origin]: client.handler })
    const key = await newDpopKey()
    expect((await pushRequest(client, key, {})).res.json.error).toBe('invalid_client')
    const wrongAud = await pushRequest(client, key, { client_assertion_type: JWT_BEARER, client_assertion: await client.assertion('https://elsewhere.example') })
    expect(wrongAud.res.json.error).toBe('invalid_client')
  })

  it('refuses metadata without token_endpoint_auth_method instead of assuming client_secret_basic', async () => {
    const client = await confidentialClient('no-method', { omitAuthMethod: true })
    network = useNetwork({ [client.origin]: client.handler })
    const { res } = await pushRequest(client, await newDpopKey(), { client_assertion_type: JWT_BEARER, client_assertion: await client.assertion() })
    expect(res.status).toBe(400)
    expect(res.json).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringContaining('token_endpoint_auth_method') })
  })

  it("lets the consent form's redirect reach the client's https origin under the page's CSP", async () => {
    const client = await confidentialClient('csp')
    network = useNetwork({ [client.origin]: client.handler })
    const { res } = await pushRequest(client, await newDpopKey(), { client_assertion_type: JWT_BEARER, client_assertion: await client.assertion() })
    const { worker } = await import('../helpers')
    const page = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(client.clientId)}&request_uri=${encodeURIComponent(res.json.request_uri)}`)
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${client.origin}`)
    expect(await page.text()).toContain('Confidential csp')
  })
})
