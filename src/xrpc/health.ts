import { ConfigError, readConfig, type Env } from '../env'
import { VERSION } from '../version'

/**
 * `/xrpc/_health`: 503 naming the bad settings (never their values) when the
 * configuration is invalid, rather than 200 while every real call fails.
 */
export function health(_req: Request, env: Env): Response {
  try {
    readConfig(env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return Response.json(
      { version: VERSION, error: 'InvalidConfiguration', message: 'The server configuration is invalid', settings: err.settings, problems: err.problems },
      { status: 503 },
    )
  }
  return Response.json({ version: VERSION })
}
