import { describe, expect, it } from 'vitest'
import { assertPublicUrl, isPublicHost, UnsafeUrlError } from '../../src/lib/publicUrl'

describe('assertPublicUrl', () => {
  it('accepts https to public names and unicast addresses', () => {
    for (const url of ['https://api.bsky.app/xrpc/x', 'https://8.8.8.8', 'https://[2606:4700:4700::1111]/', 'https://172.32.0.1']) {
      expect(assertPublicUrl(url, false).toString()).toBe(new URL(url).toString())
    }
  })

  it('refuses plain HTTP, credentials, and every private, loopback, link-local or special-use target', () => {
    const refused = [
      'http://api.bsky.app',
      'ftp://api.bsky.app',
      'https://user:pw@api.bsky.app',
      'https://localhost',
      'https://app.localhost',
      'https://printer.local',
      'https://metadata.google.internal',
      'https://intranet',
      'https://127.0.0.1',
      'https://0x7f.1',
      'https://2130706433',
      'https://10.1.2.3',
      'https://172.16.0.1',
      'https://192.168.1.1',
      'https://169.254.169.254',
      'https://100.64.0.1',
      'https://0.0.0.0',
      'https://224.0.0.1',
      'https://[::1]',
      'https://[::]',
      'https://[fe80::1]',
      'https://[fd00::1]',
      'https://[::ffff:127.0.0.1]',
      'https://[64:ff9b::a00:1]',
      'https://[2002:a00:1::]',
      'not a url',
    ]
    for (const url of refused) expect(() => assertPublicUrl(url, false), url).toThrow(UnsafeUrlError)
  })

  it('lets the dev override reach loopback over plain HTTP, but never other schemes', () => {
    expect(assertPublicUrl('http://127.0.0.1:2584/xrpc/x', true).port).toBe('2584')
    expect(assertPublicUrl('https://10.0.0.1', true).hostname).toBe('10.0.0.1')
    expect(() => assertPublicUrl('file:///etc/passwd', true)).toThrow(UnsafeUrlError)
  })

  it('judges hosts as URL normalises them', () => {
    expect(isPublicHost(new URL('https://0177.0.0.1').hostname)).toBe(false)
    expect(isPublicHost('example.com.')).toBe(true)
  })
})
