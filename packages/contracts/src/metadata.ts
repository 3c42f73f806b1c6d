// RFC 8414 metadata, built from configuration only (never from request headers).
import type { AuthorizationServerMetadata } from './introspection.js';
import { SCOPE_NAMES } from './scopes.js';

export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];

export function authorizationServerMetadata(opts: { issuer: string; tokenServiceUrl: string }): AuthorizationServerMetadata {
  const issuer = opts.issuer.replace(/\/+$/, '');
  const tokenBase = opts.tokenServiceUrl.replace(/\/+$/, '');
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${tokenBase}/oauth/token`,
    revocation_endpoint: `${tokenBase}/oauth/revoke`,
    introspection_endpoint: `${tokenBase}/oauth/introspect`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // refresh_token only for clients with expiring tokens on (issue 14); the others get unauthorized_client.
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...SCOPE_NAMES],
    authorization_response_iss_parameter_supported: true,
  };
}
