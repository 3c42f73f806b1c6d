// fastify-bearer in a small resource server, verifying tokens against the real token-service (Postgres + Redis).
import { Writable } from 'node:stream';
import { CodeStore } from '@partner-oauth/ephemeral-store';
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { buildApp, loadTokenServiceConfig } from '@partner-oauth/token-service';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type FastifyBearerOptions, fastifyBearer } from '../src/index.js';

let t: TestDatabase;
const redis = createTestRedis();
let tokenService: FastifyInstance;
let introspectionUrl: string;
let codes: CodeStore;
let appId: string;
let accountId: string;

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  const config = loadTokenServiceConfig({ DATABASE_URL: t.url, REDIS_URL: redis.url, LOG_LEVEL: 'silent' });
  tokenService = await buildApp({ config, db: t.db, store: redis.store, logger: false });
  const address = await tokenService.listen({ host: '127.0.0.1', port: 0 });
  introspectionUrl = `${address}/oauth/introspect`;
  codes = new CodeStore(redis.store);
  appId = t.ids.apps['Acme Sales'] as string;
  accountId = t.ids.accounts['ada@example.com'] as string;
});
afterAll(async () => {
  await tokenService.close();
  await redis.cleanup();
  await t.drop();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
const shoplifter = { client_id: 'shoplifter', client_secret: 'secret' };

async function mintToken(scope = 'app:read conversations:read'): Promise<string> {
  const code = await codes.issue({
    clientId: 'shoplifter',
    appId,
    accountId,
    redirectUri: 'http://localhost:4000/callback',
    redirectUriSent: false,
    scope,
  });
  const res = await tokenService.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: formHeaders,
    payload: form({ ...shoplifter, code, grant_type: 'authorization_code' }),
  });
  expect(res.statusCode).toBe(200);
  return res.json().access_token;
}

async function revoke(token: string): Promise<void> {
  const res = await tokenService.inject({
    method: 'POST',
    url: '/oauth/revoke',
    headers: formHeaders,
    payload: form({ ...shoplifter, token }),
  });
  expect(res.statusCode).toBe(200);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts introspection calls; `impl` replaces the network when a test needs the server to misbehave. */
function countingFetch(impl: typeof fetch = fetch) {
  const counter: { calls: number; fetch: typeof fetch } = {
    calls: 0,
    fetch: (input, init) => {
      counter.calls++;
      return impl(input, init);
    },
  };
  return counter;
}

interface ResourceServer {
  app: FastifyInstance;
  calls: () => number;
  logs: Array<Record<string, unknown>>;
  get: (url: string, authorization?: string) => Promise<LightMyRequestResponse>;
}

const servers: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function resourceServer(overrides: Partial<FastifyBearerOptions> = {}, impl?: typeof fetch): Promise<ResourceServer> {
  const logs: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = Fastify({ logger: { level: 'info', stream } });
  servers.push(app);
  const counter = countingFetch(impl);
  await app.register(fastifyBearer, {
    introspectionUrl,
    clientId: 'platform-api',
    clientSecret: 'platform-api-secret',
    fetch: counter.fetch,
    ...overrides,
  });
  app.get('/conversations', { preHandler: app.requireBearer('conversations:read') }, async (request) => ({ bearer: request.bearer }));
  app.post('/messages', { preHandler: app.requireBearer('conversations:write', 'app:read') }, async () => ({ sent: true }));
  app.get('/public', async (request) => ({ bearer: request.bearer }));
  await app.ready();
  return {
    app,
    logs,
    calls: () => counter.calls,
    get: (url, authorization) => app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } }),
  };
}

const challenge = (attrs = '') => `Bearer realm="platform"${attrs}`;
const invalidToken = {
  status: 401,
  header: challenge(', error="invalid_token", error_description="the access token is invalid, expired or revoked"'),
  body: { error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' },
};

describe('fastify-bearer', () => {
  let rs: ResourceServer;
  beforeEach(async () => {
    rs = await resourceServer();
  });

  it('an active token with the scope: 200, request.bearer filled from introspection', async () => {
    const token = await mintToken();
    const res = await rs.get('/conversations', `Bearer ${token}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ bearer: { appId, clientId: 'shoplifter', scope: ['app:read', 'conversations:read'], sub: accountId } });
  });

  it('the scheme name is case-insensitive', async () => {
    const token = await mintToken();
    expect((await rs.get('/conversations', `bearer ${token}`)).statusCode).toBe(200);
  });

  it('request.bearer is null on a route that does not require it', async () => {
    const token = await mintToken();
    const res = await rs.get('/public', `Bearer ${token}`);
    expect(res.json()).toEqual({ bearer: null });
    expect(rs.calls()).toBe(0);
  });

  it('no credentials: 401 with a bare challenge, no error code (RFC 6750 §3.1), no introspection', async () => {
    for (const authorization of [undefined, 'Basic c2hvcGxpZnRlcjpzZWNyZXQ=']) {
      const res = await rs.get('/conversations', authorization);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe(challenge());
      expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'a Bearer token is required' });
    }
    expect(rs.calls()).toBe(0);
  });

  it('a malformed Bearer header: 400 invalid_request, no introspection', async () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer tok"en', 'Bearer tok,en', 'Bearer =abc']) {
      const res = await rs.get('/conversations', authorization);
      expect(res.statusCode, authorization).toBe(400);
      expect(res.headers['www-authenticate']).toBe(
        challenge(', error="invalid_request", error_description="malformed Bearer authorization header"'),
      );
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'malformed Bearer authorization header' });
    }
    expect(rs.calls()).toBe(0);
  });

  it('a token in the query is refused with 400 invalid_request, even with a valid header', async () => {
    const token = await mintToken();
    const res = await rs.get(`/conversations?access_token=${token}`, `Bearer ${token}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: 'send the access token in the Authorization header, not the query',
    });
    expect(rs.calls()).toBe(0);
  });

  it('an unknown token: 401 invalid_token', async () => {
    const res = await rs.get('/conversations', 'Bearer poat_unknown');
    expect(res.statusCode).toBe(invalidToken.status);
    expect(res.headers['www-authenticate']).toBe(invalidToken.header);
    expect(res.json()).toEqual(invalidToken.body);
  });

  it('a token longer than any issued one is invalid_token without asking the token-service', async () => {
    const res = await rs.get('/conversations', `Bearer ${'a'.repeat(5000)}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(invalidToken.body);
    expect(rs.calls()).toBe(0);
  });

  it('a missing scope: 403 insufficient_scope naming every scope the route needs', async () => {
    const token = await mintToken('app:read conversations:read');
    const res = await rs.app.inject({ method: 'POST', url: '/messages', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      challenge(
        ', error="insufficient_scope", error_description="the access token lacks a scope this resource requires", scope="conversations:write app:read"',
      ),
    );
    expect(res.json()).toEqual({ error: 'insufficient_scope', error_description: 'the access token lacks a scope this resource requires' });
    const writer = await mintToken('app:read conversations:write');
    const ok = await rs.app.inject({ method: 'POST', url: '/messages', headers: { authorization: `Bearer ${writer}` } });
    expect(ok.statusCode).toBe(200);
  });

  it('a cached answer is reused: the second request does not introspect', async () => {
    const token = await mintToken();
    expect((await rs.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
    expect((await rs.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
    expect(rs.calls()).toBe(1);
    expect((await rs.get('/conversations', 'Bearer poat_nope')).statusCode).toBe(401);
    expect((await rs.get('/conversations', 'Bearer poat_nope')).statusCode).toBe(401);
    expect(rs.calls()).toBe(2);
  });

  it('the cache is bounded: with cacheMax 1 the older token is evicted', async () => {
    const small = await resourceServer({ cacheMax: 1 });
    const [a, b] = [await mintToken(), await mintToken()];
    for (const token of [a, b, b, a]) expect((await small.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
    expect(small.calls()).toBe(3);
  });

  it('20 concurrent requests with one uncached token share one introspection call', async () => {
    const token = await mintToken();
    const results = await Promise.all(Array.from({ length: 20 }, () => rs.get('/conversations', `Bearer ${token}`)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    expect(rs.calls()).toBe(1);
    const unknown = await Promise.all(Array.from({ length: 20 }, () => rs.get('/conversations', 'Bearer poat_concurrent_unknown')));
    expect(unknown.map((r) => r.statusCode)).toEqual(Array(20).fill(401));
    expect(rs.calls()).toBe(2);
  });

  it('a token revoked by its client (RFC 7009) is refused once cacheTtlMs has passed, though it was cached', async () => {
    const token = await mintToken();
    expect((await rs.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
    await revoke(token);
    await sleep(1000);
    const res = await rs.get('/conversations', `Bearer ${token}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(invalidToken.body);
    expect(rs.calls()).toBe(2);
  });

  it('a token whose authorization the partner removed (DELETE /oauth/authorization) is refused after cacheTtlMs', async () => {
    const fast = await resourceServer({ cacheTtlMs: 200 });
    const token = await mintToken();
    expect((await fast.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
    const removed = await tokenService.inject({
      method: 'DELETE',
      url: '/oauth/authorization',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(removed.statusCode).toBe(200);
    await sleep(200);
    expect((await fast.get('/conversations', `Bearer ${token}`)).statusCode).toBe(401);
  });

  it('protects a whole encapsulated scope with a preHandler hook', async () => {
    const app = Fastify();
    servers.push(app);
    await app.register(fastifyBearer, { introspectionUrl, clientId: 'platform-api', clientSecret: 'platform-api-secret' });
    await app.register(async (scope) => {
      scope.addHook('preHandler', scope.requireBearer('app:read'));
      scope.get('/app', async (request) => ({ appId: request.bearer?.appId }));
    });
    expect((await app.inject({ method: 'GET', url: '/app' })).statusCode).toBe(401);
    const res = await app.inject({ method: 'GET', url: '/app', headers: { authorization: `Bearer ${await mintToken()}` } });
    expect(res.json()).toEqual({ appId });
  });

  it('cacheTtlMs 0 introspects every request', async () => {
    const uncached = await resourceServer({ cacheTtlMs: 0 });
    const token = await mintToken();
    await uncached.get('/conversations', `Bearer ${token}`);
    await uncached.get('/conversations', `Bearer ${token}`);
    expect(uncached.calls()).toBe(2);
  });
});

describe('fastify-bearer when introspection fails: 503, fail closed', () => {
  const unavailable = { error: 'temporarily_unavailable', error_description: 'the access token could not be checked; try again' };

  function expectUnavailable(res: LightMyRequestResponse) {
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toEqual(unavailable);
  }

  it('token-service down', async () => {
    const probe = Fastify();
    const address = await probe.listen({ host: '127.0.0.1', port: 0 });
    await probe.close();
    const rs = await resourceServer({ introspectionUrl: `${address}/oauth/introspect` });
    expectUnavailable(await rs.get('/conversations', `Bearer ${await mintToken()}`));
    expect(rs.logs.some((l) => l.event === 'bearer.introspection_unreachable' && l.level === 50)).toBe(true);
  });

  it('token-service answering 5xx, and the failure is not cached', async () => {
    let failing = true;
    const rs = await resourceServer({}, async (input, init) => (failing ? new Response('oops', { status: 502 }) : fetch(input, init)));
    const token = await mintToken();
    expectUnavailable(await rs.get('/conversations', `Bearer ${token}`));
    failing = false;
    expect((await rs.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
  });

  it('token-service too slow: the call times out after timeoutMs', async () => {
    const hang: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const rs = await resourceServer({ timeoutMs: 100 }, hang);
    const started = Date.now();
    expectUnavailable(await rs.get('/conversations', `Bearer ${await mintToken()}`));
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('an answer that is not RFC 7662 never counts as active', async () => {
    const rs = await resourceServer({}, async () => Response.json({ active: 'true', client_id: 'x', app_id: 'y', sub: 'z' }));
    expectUnavailable(await rs.get('/conversations', 'Bearer poat_whatever'));
  });

  it('wrong resource-server credentials: 503 to the caller, logged loudly, nothing leaked', async () => {
    const rs = await resourceServer({ clientSecret: 'wrong-secret' });
    const res = await rs.get('/conversations', `Bearer ${await mintToken()}`);
    expectUnavailable(res);
    expect(res.body).not.toMatch(/credential|client|introspect|platform-api/i);
    const entry = rs.logs.find((l) => l.event === 'bearer.introspection_unauthorized');
    expect(entry).toMatchObject({ level: 50, clientId: 'platform-api', introspectionUrl });
    expect(JSON.stringify(rs.logs)).not.toContain('wrong-secret');
  });
});

describe('fastify-bearer registration', () => {
  const base = { introspectionUrl: 'http://127.0.0.1:1/oauth/introspect', clientId: 'platform-api', clientSecret: 's' };

  it('refuses cacheTtlMs above 1000: revocation must take effect within 1 s', async () => {
    const app = Fastify();
    await expect(app.register(fastifyBearer, { ...base, cacheTtlMs: 1001 }).ready()).rejects.toThrow(
      'fastify-bearer: cacheTtlMs must be an integer from 0 to 1000: a revoked token must be refused within 1 s',
    );
  });

  it('refuses a realm that would break the challenge, and a bad scope name', async () => {
    await expect(
      Fastify()
        .register(fastifyBearer, { ...base, realm: 'a"b' })
        .ready(),
    ).rejects.toThrow(/realm/);
    const app = Fastify();
    await app.register(fastifyBearer, base);
    expect(() => app.requireBearer('conversations read')).toThrow(/invalid scope name/);
    await app.close();
  });

  it('uses the configured realm', async () => {
    const app = Fastify();
    servers.push(app);
    await app.register(fastifyBearer, { ...base, realm: 'conversations-api' });
    app.get('/x', { preHandler: app.requireBearer() }, async () => ({}));
    const res = await app.inject({ method: 'GET', url: '/x' });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="conversations-api"');
  });
});

describe('fastify-bearer and expiring tokens (issue 14)', () => {
  it('an expiring token is cached only until its exp, though cacheTtlMs runs longer: then 401 invalid_token', async () => {
    // A lifetime of three seconds (the registry's floor is five minutes; the database takes any positive value).
    await t.db.updateTable('clients').set({ access_token_lifetime: 3 }).where('client_id', '=', 'shoplifter-rotating').execute();
    const code = await codes.issue({
      clientId: 'shoplifter-rotating',
      appId,
      accountId,
      redirectUri: 'http://localhost:4000/callback',
      redirectUriSent: false,
      scope: 'conversations:read',
    });
    const minted = await tokenService.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: formHeaders,
      payload: form({ client_id: 'shoplifter-rotating', client_secret: 'secret', code, grant_type: 'authorization_code' }),
    });
    expect(minted.json()).toMatchObject({ expires_in: 3, refresh_token: expect.stringMatching(/^port_/) });
    const token = minted.json().access_token as string;
    const introspected = await tokenService.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...formHeaders, authorization: `Basic ${Buffer.from('platform-api:platform-api-secret').toString('base64')}` },
      payload: form({ token }),
    });
    const expMs = (introspected.json().exp as number) * 1000;
    const cached = await resourceServer({ cacheTtlMs: 1000 });
    // Cached 400 ms before exp: a cache that ignored exp would answer from memory for 600 ms past it.
    await sleep(expMs - 400 - Date.now());
    expect((await cached.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
    expect((await cached.get('/conversations', `Bearer ${token}`)).statusCode).toBe(200);
    expect(cached.calls()).toBe(1);
    await sleep(expMs + 100 - Date.now());
    const late = await cached.get('/conversations', `Bearer ${token}`);
    expect(late.statusCode).toBe(invalidToken.status);
    expect(late.headers['www-authenticate']).toBe(invalidToken.header);
    expect(late.json()).toEqual(invalidToken.body);
    expect(cached.calls()).toBe(2);
  });
});
