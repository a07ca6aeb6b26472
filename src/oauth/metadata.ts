import type { Config } from '../env'
import { DPOP_ALGS } from './dpop'
import { oauthKeys } from './keys'
import { SCOPES_SUPPORTED } from './scopes'

/** RFC 9728 protected resource metadata: this PDS is its own authorization server. */
export function protectedResourceMetadata(config: Config) {
  return {
    resource: config.publicUrl,
    authorization_servers: [config.publicUrl],
    scopes_supported: [],
    bearer_methods_supported: ['header'],
    resource_documentation: 'https://atproto.com',
  }
}

/** RFC 8414 authorization server metadata, with the fields the atproto OAuth spec requires. */
export function authorizationServerMetadata(config: Config) {
  const base = config.publicUrl
  return {
    issuer: base,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    pushed_authorization_request_endpoint: `${base}/oauth/par`,
    revocation_endpoint: `${base}/oauth/revoke`,
    jwks_uri: `${base}/oauth/jwks`,
    require_pushed_authorization_requests: true,
    scopes_supported: SCOPES_SUPPORTED,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: DPOP_ALGS,
    revocation_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    dpop_signing_alg_values_supported: DPOP_ALGS,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    ui_locales_supported: ['en'],
    display_values_supported: ['page'],
    subject_types_supported: ['public'],
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: true,
    require_request_uri_registration: true,
    client_id_metadata_document_supported: true,
    protected_resources: [base],
  }
}

export async function jwks(config: Config) {
  const { publicJwk } = await oauthKeys(config)
  return { keys: [publicJwk] }
}
