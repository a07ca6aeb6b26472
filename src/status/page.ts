import type { AccountState } from '../db/accounts'
import type { OwnerFigures } from './figures'

/** The status page: small, server-rendered, no script and no external asset (see the CSP in routes.ts). */

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) ((v /= 1000), i++)
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}

const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '–')
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
/** `11-27 05:48:36`: one line on a phone. */
const shortTime = (ms: number) => new Date(ms).toISOString().slice(5, 19).replace('T', ' ')
const row = (label: string, value: string, id?: string) => `<tr><th>${esc(label)}</th><td${id ? ` id="${id}"` : ''}>${value}</td></tr>`

export const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.45}
body{margin:0 auto;max-width:46rem;padding:1rem}
h1{font-size:1.5rem;margin:.2rem 0;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #8884;padding-bottom:.2rem}
p{margin:.3rem 0}.muted{opacity:.7}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.25rem .5rem .25rem 0;overflow-wrap:anywhere}
th{font-weight:600;width:38%}
.events th{width:auto}
code,.mono{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}
form{margin:1rem 0;display:flex;gap:.5rem;flex-wrap:wrap}
input[type=password]{flex:1;min-width:12rem;padding:.5rem;font-size:1rem}
button{padding:.5rem 1rem;font-size:1rem}
.err{color:#c33}.ok{color:#2a2}
`

interface PageInput {
  account: AccountState
  version: string
  csrf: string
  nonce: string
  owner: OwnerFigures | null
  message?: string
}

export function renderPage({ account, version, csrf, nonce, owner, message }: PageInput): string {
  const profile = `https://bsky.app/profile/${encodeURIComponent(account.active ? account.handle : account.did)}`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(account.handle)} · PDS</title>
<style nonce="${nonce}">${STYLE}</style></head>
<body>
<h1 id="handle">@${esc(account.handle)}</h1>
<p class="muted">An AT Protocol Personal Data Server (Rawkode PDS ${esc(version)}).</p>
<table>
${row('DID', `<span class="mono">${esc(account.did)}</span>`, 'did')}
${row('Profile', `<a href="${esc(profile)}" rel="noopener">bsky.app/profile/${esc(account.active ? account.handle : account.did)}</a>`)}
${row('Account', account.active ? 'active' : `deactivated${account.status ? ` (${esc(account.status)})` : ''}`)}
</table>
${message ? `<p class="err" id="message">${esc(message)}</p>` : ''}
${owner ? ownerSections(owner, csrf) : signIn(csrf)}
</body></html>`
}

function signIn(csrf: string): string {
  return `<h2>Owner</h2>
<form method="post" action="/status/login">
<input type="hidden" name="csrf" value="${esc(csrf)}">
<input type="password" name="password" autocomplete="current-password" placeholder="Password" aria-label="Password" required>
<button type="submit">Sign in</button>
</form>`
}

function ownerSections(f: OwnerFigures, csrf: string): string {
  const { d1 } = f
  const actor = 'error' in f.actor ? null : f.actor
  const committer = actor?.committer ?? null
  const errors = [...f.workerErrors.map((e) => ({ ...e, where: 'worker' })), ...(actor?.recentErrors ?? []).map((e) => ({ ...e, where: 'actor' }))].sort((a, b) => b.time.localeCompare(a.time))
  return `<h2>Repository</h2><table>
${row('Head commit', d1.head ? `<span class="mono">${esc(d1.head.cid)}</span>` : 'not created yet', 'head')}
${row('Rev', d1.head ? `<span class="mono">${esc(d1.head.rev)}</span>` : '–', 'rev')}
${row('Records', String(d1.records), 'records')}
${d1.collections.length ? row('By collection', d1.collections.map((c) => `<span class="mono">${esc(c.collection)}</span> ${c.records}`).join('<br>')) : ''}
</table>
<h2>Storage</h2><table>
${row('Repo blocks (D1)', `${d1.blocks.count} · ${bytes(d1.blocks.bytes)}`, 'blocks')}
${row('Blobs (R2)', `${d1.blobs.count} · ${bytes(d1.blobs.bytes)}`, 'blobs')}
${row('Firehose log (D1)', `${d1.events.count} events · ${bytes(d1.events.bytes)}`, 'eventlog')}
${row('D1 database', bytes(d1.databaseBytes), 'dbsize')}
</table>
<h2>Firehose</h2><table>
${row('Latest seq', String(d1.events.latestSeq ?? '–'), 'seq')}
${row('Subscribers', actor ? String(actor.subscribers.length) : '–', 'subscribers')}
${(actor?.subscribers ?? []).map((s) => row(`· ${s.id.slice(0, 8)}`, `${s.live ? 'live' : 'replaying'}${s.lastSent !== null ? `, sent up to ${s.lastSent}` : ''}${s.cursor !== null ? `, cursor ${s.cursor}` : ''}`)).join('\n')}
${row('Retention', actor ? `${actor.retentionHours} h` : '–')}
</table>
<table class="events"><tr><th>seq</th><th>event</th><th>time (UTC)</th></tr>
${d1.events.latest.map((e) => `<tr><td>${e.seq}</td><td>#${esc(e.type)}</td><td class="mono">${shortTime(e.time)}</td></tr>`).join('\n')}
</table>
<h2>Actor</h2><table>
${'error' in f.actor ? row('State', `<span class="err">${esc(f.actor.error)}</span>`) : ''}
${row('Head in memory', committer?.head ? `seq ${committer.head.seq}, rev <span class="mono">${esc(committer.head.rev)}</span>` : 'not loaded (loads on the next write)', 'actorhead')}
${row('Queue', committer ? `${committer.queueDepth} waiting${committer.draining ? ', committing' : ''}` : '–', 'queue')}
${row('Last batch', committer?.lastBatch ? `${plural(committer.lastBatch.commits, 'commit')} from ${plural(committer.lastBatch.requests, 'request')}, ${when(committer.lastBatch.at)}` : '–', 'batch')}
${row('Block cache', committer ? `${committer.blockCache.entries} blocks · ${bytes(committer.blockCache.bytes)} of ${bytes(committer.blockCache.maxBytes)}` : '–')}
${row('Next alarm', when(actor?.nextAlarm), 'alarm')}
</table>
<h2>Relays</h2><table>
${f.crawls.length === 0 ? row('Asked to crawl', 'none (RELAY_HOSTS)', 'relays') : ''}
${f.crawls.map((c) => row(c.relay.replace(/^https?:\/\//, ''), `<span class="${c.status === 'ok' ? 'ok' : c.status === 'never asked' ? '' : 'err'}">${esc(c.status)}</span>${c.attemptedAt ? `, ${when(c.attemptedAt)}` : ''}${c.detail ? ` <span class="mono muted">${esc(c.detail.slice(0, 200))}</span>` : ''}${c.okAt && c.okAt !== c.attemptedAt ? `; last ok ${when(c.okAt)}` : ''}`)).join('\n')}
</table>
<h2>Recent errors</h2>
${errors.length === 0 ? '<p id="errors" class="ok">None since these instances started.</p>' : `<table id="errors">${errors.map((e) => `<tr><td>${when(Date.parse(e.time))}</td><td>${esc(e.where)} ${esc(e.level)}: ${esc(e.msg)} <span class="mono muted">${esc(e.fields.slice(0, 300))}</span></td></tr>`).join('\n')}</table>`}
<h2>Server</h2><table>
${row('Version', esc(f.version), 'version')}
${row('Migrations applied', d1.migrations.length ? d1.migrations.map((m) => `<span class="mono">${esc(m.name)}</span>`).join('<br>') : 'none recorded', 'migrations')}
</table>
<form method="post" action="/status/logout"><input type="hidden" name="csrf" value="${esc(csrf)}"><button type="submit">Sign out</button></form>`
}
