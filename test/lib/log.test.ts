import { afterEach, describe, expect, it, vi } from 'vitest'
import { readConfig, type Env } from '../../src/env'
import { log, recentProblems, setLogLevel } from '../../src/lib/log'

const env = {
  PDS_HOSTNAME: 'pds.example.com',
  PDS_DID: 'did:web:pds.example.com',
  PDS_HANDLE: 'alice.example.com',
  ADMIN_PASSWORD: 'pw',
  JWT_SECRET: 'x'.repeat(32),
  PDS_SIGNING_KEY: 'beda21e966f145733c5de18926b3d16d598237bbb3b318c2ca0f3ead7c6b91f8',
}

function printed(fn: () => void): string[] {
  const lines: string[] = []
  const spies = (['log', 'warn', 'error'] as const).map((level) => vi.spyOn(console, level).mockImplementation((line: unknown) => void lines.push(`${level} ${String(line)}`)))
  try {
    fn()
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
  return lines
}

describe('LOG_LEVEL', () => {
  // The suite shares one runtime: leave the level as every other test expects it.
  afterEach(() => setLogLevel('info'))

  it('prints a JSON line per call at the default level', () => {
    const lines = printed(() => log('info', 'request', { status: 200 }))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!.slice('log '.length))).toMatchObject({ level: 'info', msg: 'request', status: 200 })
  })

  it('warn drops the per-request and per-commit lines; the status page still hears of problems', () => {
    readConfig({ ...env, LOG_LEVEL: 'warn' } as unknown as Env)
    const lines = printed(() => {
      log('info', 'request', { status: 200 })
      log('info', 'commit', { commits: 1 })
      log('warn', 'batch reported a failure but D1 has it', { lastSeq: 7 })
    })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^warn .*"msg":"batch reported a failure but D1 has it"/)

    setLogLevel('error')
    const quiet = printed(() => log('warn', 'quiet warning', { n: 1 }))
    expect(quiet).toEqual([])
    expect(recentProblems().at(-1)).toMatchObject({ level: 'warn', msg: 'quiet warning' })
    expect(printed(() => log('error', 'loud error'))).toHaveLength(1)
  })

  it('an unknown level prints everything (readConfig reports it)', () => {
    setLogLevel('verbose')
    expect(printed(() => log('info', 'request'))).toHaveLength(1)
    expect(() => readConfig({ ...env, LOG_LEVEL: 'verbose' } as unknown as Env)).toThrow('LOG_LEVEL must be one of info, warn, error')
  })
})
