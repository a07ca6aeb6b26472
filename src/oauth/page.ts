/**
 * Server-rendered pages of the authorization server: no script, no build
 * step, nothing loaded from elsewhere but the client's own logo. The CSP
 * allows the form to post here and the browser to follow our 303 to the
 * client's redirect URI: Chrome applies `form-action` to the redirects after
 * a form submission, so that origin must be listed too.
 */
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export interface PageOptions {
  title: string
  body: string
  status?: number
  /** Origins or schemes (e.g. `https://app.example`, `com.example.app:`) the form's redirect may go to. */
  formTargets?: string[]
  headers?: Record<string, string>
  setCookies?: string[]
}

const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45}
body{margin:0;background:Canvas;color:CanvasText;display:flex;justify-content:center;padding:2rem 1rem}
main{max-width:26rem;width:100%}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.05rem}
.client{display:flex;gap:.8rem;align-items:center;margin-bottom:1rem}
.client img{width:48px;height:48px;border-radius:10px;object-fit:cover}
.muted{opacity:.75;font-size:.9rem;overflow-wrap:anywhere}
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.3rem 0}
label{display:block;font-weight:600;margin:.8rem 0 .25rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid GrayText;border-radius:6px;background:Field;color:FieldText}
.actions{display:flex;gap:.6rem;margin-top:1.2rem}
button{font-size:1rem;padding:.6rem 1.1rem;border-radius:6px;border:1px solid GrayText;background:ButtonFace;color:ButtonText;cursor:pointer}
button.primary{background:#0a66d8;border-color:#0a66d8;color:#fff}
button:focus-visible,input:focus-visible{outline:3px solid #6aa6ff;outline-offset:2px}
.error{border:1px solid #c62828;background:#c628281a;padding:.6rem .8rem;border-radius:6px}
table{width:100%;border-collapse:collapse;table-layout:fixed}td,th{text-align:left;padding:.4rem .2rem;border-bottom:1px solid GrayText;vertical-align:top;overflow-wrap:anywhere}th:last-child,td:last-child{width:6rem;text-align:right}
`

export function renderPage(opts: PageOptions): Response {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
  const formAction = ["'self'", ...(opts.formTargets ?? [])].join(' ')
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' https: data:",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${esc(opts.title)}</title><style nonce="${nonce}">${STYLE}</style></head>
<body><main>${opts.body}</main></body></html>`
  const headers = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: under it Chrome sends `Origin: null` with the form's POST, and the origin check refuses it.
    'referrer-policy': 'same-origin',
    ...opts.headers,
  })
  for (const c of opts.setCookies ?? []) headers.append('set-cookie', c)
  return new Response(html, { status: opts.status ?? 200, headers })
}

/** The CSP source that lets a form submission end at `uri` (an origin, or a private-use scheme). */
export function formTargetFor(uri: string): string {
  const url = new URL(uri)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol
}

export function errorPage(title: string, message: string, status = 400): Response {
  return renderPage({ title, status, body: `<h1>${esc(title)}</h1><p class="error" role="alert">${esc(message)}</p><p>Go back to the app and start signing in again.</p>` })
}
