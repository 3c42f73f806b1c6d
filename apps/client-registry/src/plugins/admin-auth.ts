// Bearer authentication of every admin request by a named admin API key (RFC 6750 §2.1).
import { type Clock, digestEqual, sha256, systemClock } from '@partner-oauth/service-kit';
import { type Db, findLiveAdminKey, lastUseIsStale, markAdminKeyUsed } from '@partner-oauth/storage';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AdminApiError } from '../admin-api-error.js';

export interface AdminAuthOptions {
  db: Db;
  clock?: Clock;
}

/** The key that authenticated the request: recorded in the audit log of every change it makes. */
export interface AdminIdentity {
  id: string;
  name: string;
  access: 'full' | 'read';
}

/** What a read-only key may call: reading never changes anything. */
const READ_METHODS = new Set(['GET', 'HEAD']);

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminIdentity;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function unauthorized(message: string): AdminApiError {
  return new AdminApiError('unauthorized', message, { headers: { 'www-authenticate': 'Bearer' } });
}

async function adminAuth(app: FastifyInstance, opts: AdminAuthOptions): Promise<void> {
  const { db } = opts;
  const clock = opts.clock ?? systemClock;
  app.decorateRequest('admin', null as unknown as AdminIdentity);

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw unauthorized('missing bearer token');
    const match = BEARER.exec(header);
    if (!match) throw unauthorized('invalid bearer token');
    // Looked up by the SHA-256 of a 256-bit key (nothing to learn from index timing), then confirmed in constant time.
    const presented = sha256(match[1] as string);
    const key = await findLiveAdminKey(db, presented);
    if (!key || !digestEqual(presented, key.key_hash)) throw unauthorized('invalid bearer token');
    request.admin = { id: key.id, name: key.name, access: key.access };
    // Checked before any handler runs: a read-only key cannot reach code that writes, whatever the route.
    if (key.access !== 'full' && !READ_METHODS.has(request.method)) {
      throw new AdminApiError('forbidden', `admin key "${key.name}" is read-only: ${request.method} is not allowed`);
    }
    // Off the request's path and at most once a minute: a bookkeeping write must neither slow nor fail the call.
    const at = new Date(clock.now());
    if (lastUseIsStale(key.last_used_at, at)) {
      markAdminKeyUsed(db, key.id, at).catch((err: unknown) => request.log.warn({ err }, 'could not record admin key use'));
    }
  });
}

/** Wrapped with fastify-plugin so the hook covers the scope that registers it, and nothing outside. */
export default fp(adminAuth, { name: 'admin-auth', fastify: '5.x' });
