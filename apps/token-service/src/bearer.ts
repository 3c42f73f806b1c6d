// Reading a Bearer token from the Authorization header (RFC 6750 §2.1) and its error answers (§3).
import { OAuthError } from '@partner-oauth/contracts';
import { sha256 } from '@partner-oauth/service-kit';
import { type ActiveToken, type Db, findActiveToken } from '@partner-oauth/storage';
import type { FastifyRequest } from 'fastify';

const REALM = 'partner-oauth';
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function challenge(error?: string, description?: string): Record<string, string> {
  const parts = [`realm="${REALM}"`];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${description}"`);
  return { 'www-authenticate': `Bearer ${parts.join(', ')}` };
}

/**
 * RFC 6750 §3.1: no credentials, or another scheme, get a bare challenge; a malformed Bearer
 * header is invalid_request; a token that is not valid gets invalid_token (from the caller).
 */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || !/^Bearer(\s|$)/i.test(authorization)) {
    throw new OAuthError('invalid_token', 'a Bearer token is required', { status: 401, headers: challenge() });
  }
  const match = BEARER.exec(authorization);
  if (!match?.[1]) {
    const description = 'malformed Authorization header';
    throw new OAuthError('invalid_request', description, { status: 400, headers: challenge('invalid_request', description) });
  }
  return match[1];
}

export function invalidToken(description = 'the access token is invalid, expired or revoked'): OAuthError {
  return new OAuthError('invalid_token', description, { status: 401, headers: challenge('invalid_token', description) });
}

/**
 * The live token behind the request's Bearer credentials, or the §3.1 answer (invalid_request or invalid_token);
 * a token past its expiry (expiring tokens) is invalid_token like a revoked one.
 */
export async function activeBearerToken(db: Db, request: FastifyRequest, now: Date): Promise<ActiveToken> {
  const active = await findActiveToken(db, sha256(bearerToken(request.headers.authorization)), now);
  if (!active) throw invalidToken();
  return active;
}
