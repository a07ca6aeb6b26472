/**
 * One error family for every XRPC method: handlers throw, `toErrorResponse`
 * renders `{error, message}` with the status the reference PDS uses.
 */
export class XrpcError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'XrpcError'
  }

  toResponse(): Response {
    return Response.json({ error: this.error, message: this.message }, { status: this.status, headers: this.headers })
  }
}

export class InvalidRequestError extends XrpcError {
  constructor(message: string, error = 'InvalidRequest') {
    super(400, error, message)
  }
}

/** 400 token problems: `AtpAgent` refreshes only on `ExpiredToken`. */
export class InvalidTokenError extends XrpcError {
  constructor(message = 'Token could not be verified', error: 'InvalidToken' | 'ExpiredToken' = 'InvalidToken') {
    super(400, error, message)
  }
}

/** A valid token whose scope the method does not accept (e.g. an app password on an owner-only method). */
export class BadTokenScopeError extends InvalidTokenError {
  constructor() {
    super('Bad token scope', 'InvalidToken')
  }
}

export class AuthRequiredError extends XrpcError {
  constructor(message = 'Authentication Required', error = 'AuthenticationRequired') {
    super(401, error, message)
  }
}

export class ForbiddenError extends XrpcError {
  constructor(message = 'Forbidden', error = 'Forbidden') {
    super(403, error, message)
  }
}

export class NotFoundError extends XrpcError {
  constructor(message = 'Not Found', error = 'NotFound') {
    super(404, error, message)
  }
}

export class PayloadTooLargeError extends XrpcError {
  constructor(message = 'Request entity too large') {
    super(413, 'PayloadTooLarge', message)
  }
}

/** The client stopped sending a request body (a stalled upload). */
export class RequestTimeoutError extends XrpcError {
  constructor(message = 'Request timed out') {
    super(408, 'RequestTimeout', message)
  }
}

export class RateLimitExceededError extends XrpcError {
  constructor(retryAfterSeconds: number) {
    super(429, 'RateLimitExceeded', `Rate Limit Exceeded; retry in ${retryAfterSeconds}s`, {
      'retry-after': String(retryAfterSeconds),
    })
  }
}

export class MethodNotImplementedError extends XrpcError {
  constructor(nsid: string) {
    super(501, 'MethodNotImplemented', `Method Not Implemented: ${nsid}`)
  }
}

export class UpstreamFailureError extends XrpcError {
  constructor(message = 'Upstream Failure', status = 502) {
    super(status, 'UpstreamFailure', message)
  }
}

/** Anything unexpected becomes a 500 whose details stay in the log, never in the response. */
export function toXrpcError(err: unknown): XrpcError {
  if (err instanceof XrpcError) return err
  return new XrpcError(500, 'InternalServerError', 'Internal Server Error')
}
