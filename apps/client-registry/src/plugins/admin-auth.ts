// Bearer authentication of every admin request in the scope it is registered in (RFC 6750 §2.1).
import { safeEqual, sha256 } from '@partner-oauth/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AdminApiError } from '../errors.js';

export interface AdminAuthOptions {
  token: string;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function unauthorized(message: string): AdminApiError {
  return new AdminApiError('unauthorized', message, { headers: { 'www-authenticate': 'Bearer' } });
}

async function adminAuth(app: FastifyInstance, opts: AdminAuthOptions): Promise<void> {
  // Fail closed: an empty or short token would make the API guessable.
  if (typeof opts.token !== 'string' || opts.token.length < 32)
    throw new Error('admin-auth: the admin token must be at least 32 characters');
  const expected = sha256(opts.token);

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw unauthorized('missing bearer token');
    const match = BEARER.exec(header);
    // Digests of equal length, compared in constant time: neither content nor length of the token leaks.
    if (!match || !safeEqual(sha256(match[1] as string), expected)) throw unauthorized('invalid bearer token');
  });
}

/** Wrapped with fastify-plugin so the hook covers the scope that registers it, and nothing outside. */
export default fp(adminAuth, { name: 'admin-auth', fastify: '5.x' });
