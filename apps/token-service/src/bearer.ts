// Reading a Bearer token from the Authorization header (RFC 6750 §2.1) and its error answers (§3).
import { challenge, OAuthError, readAuthorization } from '@partner-oauth/contracts';
import { sha256 } from '@partner-oauth/service-kit';
import type { ActiveToken, ActiveTokenReader } from '@partner-oauth/storage';
import type { FastifyRequest } from 'fastify';

const REALM = 'partner-oauth';

const challengeHeader = (error?: string, description?: string): Record<string, string> => ({
  'www-authenticate': challenge(REALM, { error, error_description: description }),
});

/**
 * RFC 6750 §3.1: no credentials, or another scheme, get a bare challenge; a malformed Bearer
 * header is invalid_request; a token that is not valid gets invalid_token (from the caller).
 */
export function bearerToken(authorization: string | undefined): string {
  const header = readAuthorization(authorization);
  if (header.kind === 'missing') {
    throw new OAuthError('invalid_token', 'a Bearer token is required', { status: 401, headers: challengeHeader() });
  }
  if (header.kind === 'malformed') {
    const description = 'malformed Authorization header';
    throw new OAuthError('invalid_request', description, { status: 400, headers: challengeHeader('invalid_request', description) });
  }
  return header.token;
}

export function invalidToken(description = 'the access token is invalid, expired or revoked'): OAuthError {
  return new OAuthError('invalid_token', description, { status: 401, headers: challengeHeader('invalid_token', description) });
}

/**
 * The live token behind the request's Bearer credentials, or the §3.1 answer (invalid_request or invalid_token);
 * a token past its expiry (expiring tokens) is invalid_token like a revoked one.
 */
export async function activeBearerToken(tokens: ActiveTokenReader, request: FastifyRequest, now: Date): Promise<ActiveToken> {
  const active = await tokens.find(sha256(bearerToken(request.headers.authorization)), now);
  if (!active) throw invalidToken();
  return active;
}
