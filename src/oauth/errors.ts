import { XrpcError } from '../lib/errors'

/**
 * An error from the authorization server's own endpoints (RFC 6749 §5.2):
 * `{error, error_description}`, not the XRPC shape.
 */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description)
    this.name = 'OAuthError'
  }

  toResponse(): Response {
    return Response.json(
      { error: this.error, error_description: this.description },
      { status: this.status, headers: { 'cache-control': 'no-store', ...this.headers } },
    )
  }
}

export const invalidRequest = (d: string) => new OAuthError(400, 'invalid_request', d)
export const invalidClient = (d: string) => new OAuthError(401, 'invalid_client', d)
export const invalidClientMetadata = (d: string) => new OAuthError(400, 'invalid_client_metadata', d)
export const invalidGrant = (d: string) => new OAuthError(400, 'invalid_grant', d)
export const invalidScope = (d: string) => new OAuthError(400, 'invalid_scope', d)
export const invalidDpopProof = (d: string) => new OAuthError(400, 'invalid_dpop_proof', d)
/** RFC 9449 §8: the client retries with the nonce from the `DPoP-Nonce` header. */
export const useDpopNonce = (d = 'Authorization server requires nonce in DPoP proof') => new OAuthError(400, 'use_dpop_nonce', d)

/**
 * Resource-server refusals (RFC 9449 §7.1): 401 with `WWW-Authenticate: DPoP`.
 * Clients refresh only on `invalid_token`, and retry with the new nonce on
 * `use_dpop_nonce`, so expired tokens must say `invalid_token`.
 */
export class DpopAuthError extends XrpcError {
  constructor(kind: 'invalid_token' | 'use_dpop_nonce' | 'invalid_dpop_proof', message: string) {
    const quoted = message.replace(/["\\]/g, '')
    super(401, kind === 'invalid_token' ? 'InvalidToken' : kind, message, {
      'www-authenticate': `DPoP algs="ES256", error="${kind}", error_description="${quoted}"`,
    })
  }
}

/** Converts an OAuth-layer DPoP refusal into the resource server's form. */
export function toResourceError(err: unknown): unknown {
  if (!(err instanceof OAuthError)) return err
  if (err.error === 'use_dpop_nonce') return new DpopAuthError('use_dpop_nonce', err.description)
  if (err.error === 'invalid_dpop_proof') return new DpopAuthError('invalid_dpop_proof', err.description)
  return new DpopAuthError('invalid_token', err.description)
}
