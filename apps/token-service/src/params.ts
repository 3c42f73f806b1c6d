// Form parameters of the OAuth endpoints: each at most once (RFC 6749 §3.1, §3.2), required ones present.
import { OAuthError } from '@partner-oauth/contracts';
import type { FastifyRequest } from 'fastify';

export type Params = Record<string, string | undefined>;

/** The body as single values; a repeated parameter is invalid_request. */
export function formParams(request: FastifyRequest): Params {
  if (!request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const params: Params = {};
  for (const [name, value] of Object.entries((request.body ?? {}) as Record<string, string | string[]>)) {
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
    params[name] = value;
  }
  return params;
}

export function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new OAuthError('invalid_request', `missing parameter ${name}`);
  return value;
}

/** Responses carrying tokens or token state must never be cached (RFC 6749 §5.1). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
