// OAuth errors as values carrying code, description and status (RFC 6749 §5.2, RFC 6750 §3.1).
import { type OAuthErrorCode, oauthErrorStatus } from '@partner-oauth/contracts';

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
