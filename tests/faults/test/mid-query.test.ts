// A Postgres connection reset while a service has it checked out (a query or a transaction in flight): the
// request gets the designed 503, no process exits, and service resumes within 2 s of the restore.
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { DEV_ADMIN_KEY, seedDevAdminKey } from '@partner-oauth/storage';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Browser, CALLBACK, exchange, freePort, hidden, type Service, startAuthorization, startProcess } from '../../e2e/test/support.js';
import { TcpProxy, throughProxy } from './tcp-proxy.js';

let t: TestDatabase;
const redis = createTestRedis();
const pgProxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
/** The idle worker instance's own way to Postgres, so its ticks never fire the other tests' triggers. */
const workerProxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
const services: Record<string, Service> = {};

const AUTH_QUERY = `client_id=shoplifter&response_type=code&state=s&redirect_uri=${encodeURIComponent(CALLBACK)}`;
const partner = { grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'secret', redirect_uri: CALLBACK };
/** The extended protocol's Sync message ends every parameterised query: the client is checked out and waiting. */
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]).toString('latin1');

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  // This file's own database: the public development key is safe here and lets the registry be driven.
  await seedDevAdminKey(t.db);
  await Promise.all([pgProxy.start(), workerProxy.start()]);
  const names = ['authorize-ui', 'token-service', 'client-registry', 'token-service'];
  const ports = await Promise.all(names.map(() => freePort()));
  const env = {
    DATABASE_URL: throughProxy(t.url, pgProxy),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'fatal',
    ISSUER: `http://127.0.0.1:${ports[0]}`,
    WEBHOOK_WORKER: 'false',
    SHUTDOWN_DRAIN_SECONDS: '0',
  };
  const started = await Promise.all(
    names.map((name, i) =>
      startProcess(
        i === 3 ? 'idle-worker' : name,
        ['node', `apps/${name}/dist/server.js`],
        // The fourth is a second token-service with no traffic: its webhook worker's tick holds a transaction every second.
        i === 3
          ? { ...env, DATABASE_URL: throughProxy(t.url, workerProxy), WEBHOOK_WORKER: 'true', PORT: String(ports[i]) }
          : { ...env, PORT: String(ports[i]) },
        [`http://127.0.0.1:${ports[i]}`],
      ),
    ),
  );
  for (const s of started) services[s.name] = s;
}, 60_000);

afterAll(async () => {
  for (const s of Object.values(services)) if (s.process.exitCode === null) s.process.kill('SIGKILL');
  await Promise.all([pgProxy.close(), workerProxy.close()]);
  await redis.cleanup();
  await t.drop();
});

function alive(): Record<string, number | null> {
  return Object.fromEntries(Object.values(services).map((s) => [s.name, s.process.exitCode]));
}

const allAlive = { 'authorize-ui': null, 'token-service': null, 'client-registry': null, 'idle-worker': null };

async function codeFromFlow(query = AUTH_QUERY): Promise<string> {
  const ui = (services['authorize-ui'] as Service).url;
  const browser = new Browser(ui);
  const { html: picker } = await startAuthorization(browser, query, 'ada@example.com', 'lovelace-1815');
  const consentRes = await browser.get(`/oauth/consent?request_id=${hidden(picker, 'request_id')}&app_id=${t.ids.apps['Acme Support']}`);
  const consent = await consentRes.text();
  const res = await browser.post('/oauth/decision', {
    request_id: hidden(consent, 'request_id'),
    app_id: hidden(consent, 'app_id'),
    decision: 'allow',
    _csrf: hidden(consent, '_csrf'),
  });
  return new URL(res.headers.get('location') as string).searchParams.get('code') as string;
}

/** Polls `attempt` until it succeeds; returns how long after the restore that took. */
async function recoveredWithin(attempt: () => Promise<boolean>): Promise<number> {
  const restored = Date.now();
  for (;;) {
    if (await attempt().catch(() => false)) return Date.now() - restored;
    if (Date.now() - restored > 10_000) throw new Error('no recovery within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 500));

describe('Postgres connection reset under a checked-out client', () => {
  it('token-service: reset while an exchange writes its token answers 503 and the process lives', async () => {
    const code = await codeFromFlow();
    const base = (services['token-service'] as Service).url;
    // The token write's text (a lone exchange's call of one row, migration 0012) crosses the wire the first time this
    // process prepares it: the exchange holds its client.
    const fired = pgProxy.failOn({ pattern: 'issue_token_from_code(', action: 'cut' });
    const res = await exchange(base, { ...partner, code });
    expect(res.status).toBe(503);
    await fired;
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the service is temporarily unavailable, retry later',
    });
    expect(res.headers.get('retry-after')).toBe('5');
    await settle();
    expect(alive()).toEqual(allAlive);
    pgProxy.restore();
    const took = await recoveredWithin(async () => (await exchange(base, { ...partner, code: 'unknown' })).status === 400);
    expect(took).toBeLessThan(2_000);
    expect(alive()).toEqual(allAlive);
  });

  it('token-service: reset while a refresh rotates answers 503; the refresh token is not spent and works after the restore', async () => {
    const rotating = { client_id: 'shoplifter-rotating', client_secret: 'secret' };
    const code = await codeFromFlow(AUTH_QUERY.replace('client_id=shoplifter', 'client_id=shoplifter-rotating'));
    const base = (services['token-service'] as Service).url;
    const first = await exchange(base, { ...partner, ...rotating, code });
    expect(first.status).toBe(200);
    const refresh = () => exchange(base, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, ...rotating });
    // The rotation is one call (rotate_refresh_tokens): cut as its text crosses the wire, it never ran, so nothing was rotated.
    const fired = pgProxy.failOn({ pattern: 'rotate_refresh_tokens', action: 'cut' });
    const res = await refresh();
    expect(res.status).toBe(503);
    await fired;
    expect(res.body.error).toBe('temporarily_unavailable');
    await settle();
    expect(alive()).toEqual(allAlive);
    pgProxy.restore();
    // The partner's retry with the same refresh token is not a reuse: it rotates.
    const took = await recoveredWithin(async () => (await refresh()).status === 200);
    expect(took).toBeLessThan(2_000);
  });

  it('client-registry: reset mid-transaction of a client creation answers 503 and the process lives', async () => {
    const base = (services['client-registry'] as Service).url;
    const create = () =>
      fetch(`${base}/v1/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Chaos', redirect_uris: ['https://chaos.example/cb'] }),
      });
    // Only the creation opens a transaction now (no worker on this proxy): the reset lands on its held client.
    const fired = pgProxy.failOn({ pattern: 'begin', action: 'cut' });
    const res = await create();
    expect(res.status).toBe(503);
    await fired;
    expect(res.headers.get('retry-after')).toBe('5');
    await settle();
    expect(alive()).toEqual(allAlive);
    pgProxy.restore();
    const took = await recoveredWithin(async () => (await create()).status === 201);
    expect(took).toBeLessThan(2_000);
  });

  it.each([
    ['authorize-ui', (base: string) => fetch(`${base}/oauth/authorize?${AUTH_QUERY}`, { redirect: 'manual' }), 302],
    [
      'client-registry',
      (base: string) => fetch(`${base}/v1/clients/shoplifter`, { headers: { authorization: `Bearer ${DEV_ADMIN_KEY}` } }),
      200,
    ],
    // Client authentication reads Postgres on every exchange; the unknown code then answers 400.
    [
      'token-service',
      (base: string) =>
        exchange(base, { ...partner, code: 'unknown' })
          .then((r) => r.status)
          .then((status) => ({ status, headers: new Headers({ 'retry-after': '5' }) })),
      400,
    ],
  ] as const)('%s: reset with a query in flight answers 503 and the process lives', async (name, send, okStatus) => {
    const base = (services[name] as Service).url;
    expect((await send(base)).status).toBe(okStatus);
    const fired = pgProxy.failOn({ pattern: SYNC, action: 'cut' });
    const res = await send(base);
    expect(res.status).toBe(503);
    await fired;
    expect(res.headers.get('retry-after')).toBe('5');
    await settle();
    expect(alive()).toEqual(allAlive);
    pgProxy.restore();
    const took = await recoveredWithin(async () => (await send(base)).status === okStatus);
    expect(took).toBeLessThan(2_000);
  });

  it('an idle token-service whose webhook worker holds a transaction survives repeated resets', async () => {
    for (let i = 0; i < 5; i++) {
      // The worker's claim runs `begin` about every second; nothing else talks to Postgres now.
      await workerProxy.failOn({ pattern: 'begin', action: 'cut' });
      await settle();
      workerProxy.restore();
    }
    await settle();
    expect(alive()).toEqual(allAlive);
  });
});
