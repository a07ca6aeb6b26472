/**
 * Outbound requests whose target a caller can influence (atproto-proxy, DID
 * documents, handles) must not become a way into private networks: only HTTPS
 * to public names and unicast addresses, unless the dev/test override is on.
 */
export class UnsafeUrlError extends Error {
  name = 'UnsafeUrlError'
}

export function assertPublicUrl(target: string | URL, allowInsecure: boolean): URL {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    throw new UnsafeUrlError(`not a URL: ${String(target).slice(0, 200)}`)
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    throw new UnsafeUrlError(`${url.origin} is not an https URL`)
  }
  if (url.username || url.password) throw new UnsafeUrlError(`${url.origin} carries credentials`)
  if (!allowInsecure && !isPublicHost(url.hostname)) throw new UnsafeUrlError(`${url.hostname} is not a public address`)
  return url
}

/** `hostname` as `URL` gives it: lower case, IPv4 normalised, IPv6 in brackets. */
export function isPublicHost(hostname: string): boolean {
  const host = hostname.replace(/\.$/, '').toLowerCase()
  if (host.startsWith('[')) return isPublicIpv6(host.slice(1, -1))
  const v4 = parseIpv4(host)
  if (v4) return isPublicIpv4(v4)
  // Single-label names and special-use suffixes resolve inside the local network, if anywhere.
  if (!host.includes('.')) return false
  return !/\.(localhost|local|internal|intranet|lan|home\.arpa|arpa|onion)$/.test(host)
}

function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  if (!m) return null
  const parts = m.slice(1).map(Number)
  return parts.every((p) => p <= 255) ? parts : null
}

// RFC 6890 special-purpose ranges: this-network, private, CGNAT, loopback,
// link-local, IETF protocol, benchmarking, multicast and reserved.
function isPublicIpv4([a, b]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false
  if (a === 100 && b! >= 64 && b! <= 127) return false
  if (a === 169 && b === 254) return false
  if (a === 172 && b! >= 16 && b! <= 31) return false
  if (a === 192 && (b === 168 || b === 0)) return false
  if (a === 198 && (b === 18 || b === 19)) return false
  return true
}

// Only global unicast (2000::/3) is public; that excludes loopback, unspecified,
// unique-local, link-local, multicast and IPv4-mapped/NAT64 forms, which could
// reach a private IPv4 address. 6to4 and documentation ranges are refused too.
function isPublicIpv6(addr: string): boolean {
  const first = addr.split(':')[0] ?? ''
  if (first === '') return false
  const hextet = parseInt(first, 16)
  if (Number.isNaN(hextet) || hextet < 0x2000 || hextet > 0x3fff) return false
  if (hextet === 0x2002) return false
  if (addr.startsWith('2001:db8:') || addr.startsWith('2001:0db8:')) return false
  return true
}
