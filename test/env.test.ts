import { describe, expect, it } from 'vitest'
import { ConfigError, readConfig, type Env } from '../src/env'
import { toXrpcError, XrpcError } from '../src/lib/errors'

const valid = {
  PDS_HOSTNAME: 'pds.example.com',
  PDS_DID: 'did:web:pds.example.com',
  PDS_HANDLE: 'Alice.Example.com',
  ADMIN_PASSWORD: 'pw',
  JWT_SECRET: 'x'.repeat(32),
  PDS_SIGNING_KEY: 'BEDA21E966F145733C5DE18926B3D16D598237BBB3B318C2CA0F3EAD7C6B91F8',
} as unknown as Env

describe('readConfig', () => {
  it('parses a valid environment once, normalising case and deriving the public URL', () => {
    const env = { ...valid, RELAY_HOSTS: 'bsky.network, relay.example.com', EVENT_RETENTION_HOURS: '24' } as Env
    const config = readConfig(env)
    expect(config).toMatchObject({
      hostname: 'pds.example.com',
      publicUrl: 'https://pds.example.com',
      handle: 'alice.example.com',
      signingKeyHex: 'beda21e966f145733c5de18926b3d16d598237bbb3b318c2ca0f3ead7c6b91f8',
      relayHosts: ['bsky.network', 'relay.example.com'],
      eventRetentionMs: 24 * 3600_000,
      blobMaxBytes: 100 * 1024 * 1024,
    })
    expect(readConfig(env)).toBe(config)
    expect(readConfig({ ...valid, PDS_HOSTNAME: 'localhost:8787', PDS_DID: 'did:web:localhost%3A8787' } as Env).publicUrl).toBe('http://localhost:8787')
  })

  it('fails fast naming every missing or malformed value', () => {
    const env = { PDS_HOSTNAME: 'not a host!', PDS_DID: 'did:key:z123', JWT_SECRET: 'short', PDS_SIGNING_KEY: 'abc', BLOB_MAX_BYTES: '-1' } as unknown as Env
    let error: unknown
    try {
      readConfig(env)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    for (const fragment of ['PDS_HANDLE is missing', 'ADMIN_PASSWORD is missing', 'PDS_HOSTNAME must be', 'PDS_DID must be', 'JWT_SECRET must be at least 32', 'PDS_SIGNING_KEY must be 64 hex', 'BLOB_MAX_BYTES must be a positive number']) {
      expect(message).toContain(fragment)
    }
    // No secret value is echoed back.
    expect(message).not.toContain('short')
  })
})

describe('readConfig: identity', () => {
  const plc = { ...valid, PDS_DID: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz', PLC_ROTATION_KEY: 'a'.repeat(64) } as unknown as Env

  it('takes a did:plc with its rotation key; the PLC directory defaults to the public one', () => {
    const config = readConfig(plc)
    expect(config).toMatchObject({ did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz', plcRotationKeyHex: 'a'.repeat(64), plcDirectoryUrl: 'https://plc.directory' })
    expect(readConfig({ ...valid } as Env).plcRotationKeyHex).toBeNull()
  })

  it('refuses a did:plc without a rotation key, a malformed key or DID, and plain-http PLC outside development', () => {
    const message = (env: object) => {
      try {
        readConfig(env as Env)
      } catch (err) {
        return (err as Error).message
      }
      return ''
    }
    expect(message({ ...plc, PLC_ROTATION_KEY: undefined })).toContain('PLC_ROTATION_KEY is missing')
    expect(message({ ...plc, PLC_ROTATION_KEY: 'xyz-secret' })).toContain('PLC_ROTATION_KEY must be 64 hex')
    expect(message({ ...plc, PLC_ROTATION_KEY: 'xyz-secret' })).not.toContain('xyz-secret')
    expect(message({ ...plc, PDS_DID: 'did:plc:NOT-BASE32' })).toContain('PDS_DID must be')
    expect(message({ ...plc, PLC_DIRECTORY_URL: 'http://127.0.0.1:2582' })).toContain('PLC_DIRECTORY_URL must be https')
    expect(message({ ...plc, PLC_DIRECTORY_URL: 'http://plc.example.com' })).toContain('PLC_DIRECTORY_URL must be https')
    // A local PDS (npm run dev) may use a local PLC directory over plain http.
    expect(readConfig({ ...plc, PDS_HOSTNAME: 'localhost:8790', PLC_DIRECTORY_URL: 'http://127.0.0.1:2582/' } as Env).plcDirectoryUrl).toBe('http://127.0.0.1:2582')
    expect(message({ ...plc, PDS_HOSTNAME: 'localhost:8790', PLC_DIRECTORY_URL: 'http://plc.example.com' })).toContain('PLC_DIRECTORY_URL must be https')
  })
})

describe('errors', () => {
  it('hides the details of unexpected errors behind a plain 500', async () => {
    const err = toXrpcError(new Error('D1_ERROR: secret table detail'))
    expect(err).toBeInstanceOf(XrpcError)
    const res = err.toResponse()
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ error: 'InternalServerError', message: 'Internal Server Error' })
  })
})
