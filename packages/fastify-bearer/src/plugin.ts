// The fastify-bearer plugin: protects a resource server's routes with partners' Bearer tokens (RFC 6750).

import { challenge, readAuthorization } from '@partner-oauth/contracts';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Bearer, IntrospectionUnavailable, Introspector } from './introspection.js';

export interface FastifyBearerOptions {
  /** The token-service's RFC 7662 endpoint, e.g. `https://tokens.internal/oauth/introspect`. */
  introspectionUrl: string;
  /** This resource server's introspection credential (sent with HTTP Basic). */
  clientId: string;
  clientSecret: string;
  /** How long an introspection answer is reused; at most 1000 so a revocation is seen everywhere within 1 s. 0 disables the cache. */
  cacheTtlMs?: number;
  /** Most cached answers kept; the least recently used go first. */
  cacheMax?: number;
  /** Introspection call timeout; past it the request answers 503. */
  timeoutMs?: number;
  /** The `realm` of the WWW-Authenticate challenge. */
  realm?: string;
  /** Replaces global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

/** A preHandler that lets a request through only with an active token carrying every given scope. */
export type BearerPreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller on routes protected by requireBearer; null elsewhere. */
    bearer: Bearer | null;
  }
  interface FastifyInstance {
    /** preHandler factory: `{ preHandler: app.requireBearer('conversations:read') }`. */
    requireBearer(...scopes: string[]): BearerPreHandler;
  }
}

export const MAX_CACHE_TTL_MS = 1000;
/** Longer than any token the token-service accepts for introspection (and issues). */
const MAX_TOKEN_LENGTH = 4096;
/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** RFC 7230 quoted-string content we are willing to put in a challenge. */
const REALM = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

function checkOptions(opts: FastifyBearerOptions): Required<Omit<FastifyBearerOptions, 'fetch'>> {
  const cacheTtlMs = opts.cacheTtlMs ?? MAX_CACHE_TTL_MS;
  const cacheMax = opts.cacheMax ?? 10_000;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const realm = opts.realm ?? 'platform';
  const fail = (message: string) => new Error(`fastify-bearer: ${message}`);
  let url: URL;
  try {
    url = new URL(opts.introspectionUrl);
  } catch {
    throw fail('introspectionUrl must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fail('introspectionUrl must be http(s)');
  if (typeof opts.clientId !== 'string' || opts.clientId === '') throw fail('clientId is required');
  if (typeof opts.clientSecret !== 'string' || opts.clientSecret === '') throw fail('clientSecret is required');
  if (!Number.isInteger(cacheTtlMs) || cacheTtlMs < 0 || cacheTtlMs > MAX_CACHE_TTL_MS) {
    throw fail(`cacheTtlMs must be an integer from 0 to ${MAX_CACHE_TTL_MS}: a revoked token must be refused within 1 s`);
  }
  if (!Number.isInteger(cacheMax) || cacheMax < 0) throw fail('cacheMax must be a non-negative integer');
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw fail('timeoutMs must be a positive integer');
  if (!REALM.test(realm)) throw fail('realm must be printable ASCII without quotes or backslashes');
  return {
    introspectionUrl: url.toString(),
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    cacheTtlMs,
    cacheMax,
    timeoutMs,
    realm,
  };
}

const plugin: FastifyPluginAsync<FastifyBearerOptions> = async (app, opts) => {
  const options = checkOptions(opts);
  const { realm } = options;
  const introspector = new Introspector({ ...options, fetch: opts.fetch ?? globalThis.fetch, log: app.log });

  function refuse(reply: FastifyReply, status: 400 | 401 | 403, error: string | undefined, description: string, scope?: string) {
    const attrs = error === undefined ? {} : { error, error_description: description, scope };
    return reply
      .code(status)
      .header('www-authenticate', challenge(realm, attrs))
      .header('cache-control', 'no-store')
      .send({ error: error ?? 'invalid_token', error_description: description });
  }

  function requireBearer(...scopes: string[]): BearerPreHandler {
    for (const s of scopes) if (!SCOPE_TOKEN.test(s)) throw new Error(`fastify-bearer: invalid scope name ${JSON.stringify(s)}`);
    const needed = [...new Set(scopes)];
    return async function bearerPreHandler(request, reply) {
      const query = request.query;
      if (typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token')) {
        return refuse(reply, 400, 'invalid_request', 'send the access token in the Authorization header, not the query');
      }
      const header = readAuthorization(request.headers.authorization);
      // RFC 6750 §3.1: a request without credentials gets the challenge and no error code.
      if (header.kind === 'missing') return refuse(reply, 401, undefined, 'a Bearer token is required');
      if (header.kind === 'malformed') return refuse(reply, 400, 'invalid_request', header.description);
      if (header.token.length > MAX_TOKEN_LENGTH)
        return refuse(reply, 401, 'invalid_token', 'the access token is invalid, expired or revoked');
      let outcome: Awaited<ReturnType<Introspector['introspect']>>;
      try {
        outcome = await introspector.introspect(header.token);
      } catch (err) {
        if (!(err instanceof IntrospectionUnavailable)) throw err;
        return reply
          .code(503)
          .header('retry-after', '1')
          .header('cache-control', 'no-store')
          .send({ error: 'temporarily_unavailable', error_description: 'the access token could not be checked; try again' });
      }
      if (!outcome.active) return refuse(reply, 401, 'invalid_token', 'the access token is invalid, expired or revoked');
      const missing = needed.filter((s) => !outcome.bearer.scope.includes(s));
      if (missing.length > 0) {
        return refuse(reply, 403, 'insufficient_scope', 'the access token lacks a scope this resource requires', needed.join(' '));
      }
      // A copy: the cached answer is shared by every request with this token.
      request.bearer = { ...outcome.bearer, scope: [...outcome.bearer.scope] };
      return undefined;
    };
  }

  app.decorateRequest('bearer', null);
  app.decorate('requireBearer', requireBearer);
  app.addHook('onClose', async () => introspector.clear());
};

export const fastifyBearer = fp(plugin, { name: 'fastify-bearer', fastify: '5.x' });
export default fastifyBearer;
