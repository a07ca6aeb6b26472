// After a deploy: is the PDS live, does its identity resolve, does the handle
// point at it? Each check says what is wrong and what to do about it.

const get = async (url, accept = 'application/json') => {
  const res = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(10_000), redirect: 'follow' })
  return { status: res.status, text: await res.text() }
}
const json = (r) => {
  try {
    return JSON.parse(r.text)
  } catch {
    return null
  }
}

/**
 * `base` is where the Worker answers (https://PDS_HOSTNAME, or --live-url);
 * `dohUrl` a DNS-over-HTTPS JSON endpoint for the handle's TXT record.
 */
export function liveChecks({ base, hostname, did, handle, signingDidKey, plcUrl, dohUrl }) {
  const checks = [
    {
      name: 'describeServer',
      async run() {
        const body = json(await get(`${base}/xrpc/com.atproto.server.describeServer`))
        if (!body?.did) return 'no describeServer answer yet'
        return body.did === did || body.did === `did:web:${hostname}` ? null : `it answers for ${body.did}, not ${did}`
      },
    },
    did.startsWith('did:web:')
      ? {
          name: 'DID document',
          async run() {
            const doc = json(await get(`${base}/.well-known/did.json`))
            if (!doc?.id) return 'no /.well-known/did.json yet'
            if (doc.id !== did) return `the document is for ${doc.id}`
            const endpoint = doc.service?.find((s) => s.id === '#atproto_pds')?.serviceEndpoint
            if (endpoint !== `https://${hostname}`) return `its PDS endpoint is ${endpoint}, not https://${hostname}`
            const key = doc.verificationMethod?.find((v) => v.id.endsWith('#atproto'))?.publicKeyMultibase
            if (signingDidKey && `did:key:${key}` !== signingDidKey) return `its signing key is did:key:${key}, not ${signingDidKey}`
            return null
          },
        }
      : {
          name: 'DID document (PLC)',
          async run() {
            const doc = json(await get(`${plcUrl}/${did}`))
            if (!doc?.id) return `${did} is not in the PLC directory`
            const endpoint = doc.service?.find((s) => s.id === '#atproto_pds')?.serviceEndpoint
            return endpoint === `https://${hostname}` ? null : `the PLC directory still names ${endpoint} as its PDS: run \`npm run migrate\` to move the account here`
          },
        },
    {
      name: `handle ${handle}`,
      async run() {
        // Served by the Worker itself when the handle is its host name…
        const wellKnownBase = handle === hostname ? base : `https://${handle}`
        const viaHttp = await get(`${wellKnownBase}/.well-known/atproto-did`, 'text/plain').catch(() => null)
        if (viaHttp?.status === 200 && viaHttp.text.trim() === did) return null
        // …otherwise a DNS TXT record _atproto.<handle> = "did=<did>".
        const dns = json(await get(`${dohUrl}?name=_atproto.${encodeURIComponent(handle)}&type=TXT`, 'application/dns-json').catch(() => ({ text: '' })))
        const txt = (dns?.Answer ?? []).map((a) => String(a.data).replace(/^"|"$/g, ''))
        if (txt.includes(`did=${did}`)) return null
        return `neither https://${handle}/.well-known/atproto-did nor DNS TXT _atproto.${handle} says ${did} yet`
      },
    },
  ]
  return checks
}

/** Runs every check until all pass or `waitMs` has gone by; returns the problems left. */
export async function runChecks(checks, waitMs, report = console.log) {
  const deadline = Date.now() + waitMs
  const left = new Map(checks.map((c) => [c.name, c]))
  const problems = new Map()
  for (;;) {
    for (const [name, check] of left) {
      const problem = await check.run().catch((err) => `not reachable (${err.cause?.code ?? err.message})`)
      if (problem === null) {
        report(`  ✓ ${name}`)
        left.delete(name)
        problems.delete(name)
      } else problems.set(name, problem)
    }
    if (left.size === 0 || Date.now() >= deadline) break
    await new Promise((r) => setTimeout(r, 2000))
  }
  for (const [name, problem] of problems) report(`  ✗ ${name}: ${problem}`)
  return problems
}
