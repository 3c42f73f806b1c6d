// Asks the token-service about a token (RFC 7662), with a short cache and one call per token at a time.
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { TtlLruCache } from './cache.js';

/** What a protected route learns about the caller. */
export interface Bearer {
  appId: string;
  clientId: string;
  scope: string[];
  /** The account that granted the access. */
  sub: string;
}

/** `exp` (epoch seconds) when the server tells the token's end of life; it bounds how long the answer is cached. */
export type Outcome = { active: true; bearer: Bearer; exp?: number } | { active: false };

/** The token could not be checked: the caller is refused with 503, never let through. */
export class IntrospectionUnavailable extends Error {
  constructor() {
    super('token introspection unavailable');
    this.name = 'IntrospectionUnavailable';
  }
}

export interface IntrospectorOptions {
  introspectionUrl: string;
  clientId: string;
  clientSecret: string;
  cacheTtlMs: number;
  cacheMax: number;
  timeoutMs: number;
  fetch: typeof fetch;
  log: FastifyBaseLogger;
}

interface Cached {
  outcome: Outcome;
  startedAt: number;
}

interface Flight {
  startedAt: number;
  promise: Promise<Outcome>;
}

const monotonic = () => performance.now();
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
// RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

export class Introspector {
  readonly #opts: IntrospectorOptions;
  readonly #authorization: string;
  /** Keyed by the token's SHA-256: a heap dump never holds a usable token. */
  readonly #cache: TtlLruCache<Cached>;
  readonly #inFlight = new Map<string, Flight>();

  constructor(opts: IntrospectorOptions) {
    this.#opts = opts;
    this.#authorization = `Basic ${Buffer.from(`${formEncode(opts.clientId)}:${formEncode(opts.clientSecret)}`).toString('base64')}`;
    this.#cache = new TtlLruCache(opts.cacheMax, monotonic);
  }

  /**
   * Every answer used for a request comes from a call that started at most cacheTtlMs
   * before that request was checked: a token revoked at T is refused from T + cacheTtlMs on.
   */
  introspect(token: string): Promise<Outcome> {
    const key = sha256(token);
    const cached = this.#cache.get(key);
    if (cached) return Promise.resolve(cached.outcome);
    const now = monotonic();
    const flight = this.#inFlight.get(key);
    // A slow call that started longer ago than the cache lifetime may predate a revocation: don't join it.
    if (flight && now - flight.startedAt < this.#opts.cacheTtlMs) return flight.promise;
    const startedAt = now;
    const promise: Promise<Outcome> = this.#call(token)
      .then((outcome) => {
        this.#remember(key, outcome, startedAt);
        return outcome;
      })
      .finally(() => {
        if (this.#inFlight.get(key)?.promise === promise) this.#inFlight.delete(key);
      });
    this.#inFlight.set(key, { startedAt, promise });
    return promise;
  }

  clear(): void {
    this.#cache.clear();
    this.#inFlight.clear();
  }

  #remember(key: string, outcome: Outcome, startedAt: number): void {
    // An older call finishing late must not replace what a newer call learned (say, a revocation).
    const existing = this.#cache.get(key);
    if (existing && existing.startedAt > startedAt) return;
    let lifetime = this.#opts.cacheTtlMs;
    if (outcome.active && outcome.exp !== undefined) lifetime = Math.min(lifetime, outcome.exp * 1000 - Date.now());
    this.#cache.set(key, { outcome, startedAt }, startedAt + lifetime);
  }

  async #call(token: string): Promise<Outcome> {
    const { introspectionUrl, timeoutMs, log } = this.#opts;
    let body: unknown;
    try {
      const res = await this.#opts.fetch(introspectionUrl, {
        method: 'POST',
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token }).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 401) {
        await res.body?.cancel();
        log.error(
          { event: 'bearer.introspection_unauthorized', introspectionUrl, clientId: this.#opts.clientId },
          'the token-service refused this resource server’s introspection credentials: every Bearer request is refused',
        );
        throw new IntrospectionUnavailable();
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        log.error({ event: 'bearer.introspection_failed', introspectionUrl, status: res.status }, 'token introspection failed');
        throw new IntrospectionUnavailable();
      }
      body = await res.json();
    } catch (err) {
      if (err instanceof IntrospectionUnavailable) throw err;
      log.error(
        { event: 'bearer.introspection_unreachable', introspectionUrl, errName: (err as Error)?.name, errMessage: (err as Error)?.message },
        'token introspection unreachable',
      );
      throw new IntrospectionUnavailable();
    }
    const outcome = parseIntrospection(body);
    if (!outcome) {
      log.error({ event: 'bearer.introspection_malformed', introspectionUrl }, 'token introspection answered an unexpected body');
      throw new IntrospectionUnavailable();
    }
    return outcome;
  }
}

/** Reads an RFC 7662 §2.2 answer; undefined when it is not one (which fails closed). */
export function parseIntrospection(body: unknown): Outcome | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (b.active === false) return { active: false };
  if (b.active !== true) return undefined;
  if (typeof b.client_id !== 'string' || typeof b.app_id !== 'string' || typeof b.sub !== 'string') return undefined;
  if (b.scope !== undefined && typeof b.scope !== 'string') return undefined;
  // Only access tokens protect routes; an expired one is inactive whatever the server said.
  if (b.token_type !== undefined && (typeof b.token_type !== 'string' || b.token_type.toLowerCase() !== 'bearer')) return { active: false };
  if (b.exp !== undefined && (typeof b.exp !== 'number' || b.exp * 1000 <= Date.now())) return { active: false };
  const scope = typeof b.scope === 'string' ? b.scope.split(' ').filter((s) => s !== '') : [];
  const bearer = { appId: b.app_id, clientId: b.client_id, scope, sub: b.sub };
  return typeof b.exp === 'number' ? { active: true, bearer, exp: b.exp } : { active: true, bearer };
}
