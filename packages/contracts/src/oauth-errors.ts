// OAuth 2.0 error codes (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1) and their HTTP statuses.
import { type Static, Type } from 'typebox';

export const AuthorizeErrorCodes = [
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
] as const;
export type AuthorizeErrorCode = (typeof AuthorizeErrorCodes)[number];

export const TokenErrorCodes = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
] as const;
export type TokenErrorCode = (typeof TokenErrorCodes)[number];

export const BearerErrorCodes = ['invalid_request', 'invalid_token', 'insufficient_scope'] as const;
export type BearerErrorCode = (typeof BearerErrorCodes)[number];

export type OAuthErrorCode = AuthorizeErrorCode | TokenErrorCode | BearerErrorCode;

/** HTTP status of each error when answered directly (token endpoint and APIs). */
export const oauthErrorStatus: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_token: 401,
  insufficient_scope: 403,
};

/** RFC 6749 §5.2 error response body. */
export const OAuthErrorResponse = Type.Object(
  {
    error: Type.String(),
    error_description: Type.Optional(Type.String()),
  },
  { $id: 'OAuthErrorResponse' },
);
export type OAuthErrorResponse = Static<typeof OAuthErrorResponse>;

/**
 * An OAuth error as a value carrying code, description and status (RFC 6749 §5.2, RFC 6750 §3.1):
 * thrown by a handler, answered by its service's error handler as the JSON body above.
 */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(error: OAuthErrorCode, description: string, options: { status?: number; headers?: Record<string, string> } = {}) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    this.status = options.status ?? oauthErrorStatus[error];
    this.headers = options.headers ?? {};
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}
