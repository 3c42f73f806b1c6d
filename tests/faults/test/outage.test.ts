// Redis or Postgres unreachable during a flow: 503s and error redirects, never a 500, no code or token unstored, and service resumes by itself.
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { DEV_ADMIN_KEY } from '@partner-oauth/storage';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  Browser,
  CALLBACK,
  exchange,
  freePort,
  hidden,
  type Service,
  startAuthorization,
  startProcess,
  stopProcess,
} from '../../e2e/test/support.js';
import { TcpProxy, throughProxy } from './tcp-proxy.js';

let t: TestDatabase;
const redis = createTestRedis();
const pgProxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
const redisProxy = new TcpProxy({ host: '127.0.0.1', port: 6379 });
const services: Service[] = [];
let ui: string;
let token: string;
let registry: string;

const AUTH_QUERY = `client_id=shoplifter&response_type=code&state=fault-state&redirect_uri=${encodeURIComponent(CALLBACK)}`;
const partner = { grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'secret', redirect_uri: CALLBACK };
const UNAVAILABLE_JSON = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, retry later' };

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  await Promise.all([pgProxy.start(), redisProxy.start()]);
  const ports = [await freePort(), await freePort(), await freePort()];
  [ui, token, registry] = ports.map((p) => `http://127.0.0.1:${p}`) as [string, string, string];
  const env = {
    DATABASE_URL: throughProxy(t.url, pgProxy),
    REDIS_URL: throughProxy(redis.url, redisProxy),
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    ISSUER: ui,
    WEBHOOK_WORKER: 'false',
    SHUTDOWN_DRAIN_SECONDS: '0',
  };
  const start = (name: string, port: number) =>
    startProcess(name, ['node', `apps/${name}/dist/server.js`], { ...env, PORT: String(port) }, [`http://127.0.0.1:${port}`]);
  services.push(
    ...(await Promise.all([
      start('authorize-ui', ports[0] as number),
      start('token-service', ports[1] as number),
      start('client-registry', ports[2] as number),
    ])),
  );
}, 60_000);

afterAll(async () => {
  const codes = await Promise.all(services.map(stopProcess));
  await Promise.all([pgProxy.close(), redisProxy.close()]);
  await redis.cleanup();
  await t.drop();
  expect(codes).toEqual([0, 0, 0]);
});

/** Signs ada in and brings her to the consent page for Acme Support (Redis and Postgres up). */
async function toConsent(): Promise<{ browser: Browser; consent: string }> {
  const browser = new Browser(ui);
  const { html: picker } = await startAuthorization(browser, AUTH_QUERY, 'ada@example.com', 'lovelace-1815');
  const res = await browser.get(`/oauth/consent?request_id=${hidden(picker, 'request_id')}&app_id=${t.ids.apps['Acme Support']}`);
  const consent = await res.text();
  expect(consent).toContain('Shoplifter wants access to Acme Support');
  return { browser, consent };
}

function decision(browser: Browser, consent: string): Promise<Response> {
  return browser.post('/oauth/decision', {
    request_id: hidden(consent, 'request_id'),
    app_id: hidden(consent, 'app_id'),
    decision: 'allow',
    _csrf: hidden(consent, '_csrf'),
  });
}

/** A full flow to a token; proves the same processes serve again. Retries while the clients reconnect. */
async function flowSucceeds(): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const { browser, consent } = await toConsent();
      const back = new URL((await decision(browser, consent)).headers.get('location') as string);
      const res = await exchange(token, { ...partner, code: back.searchParams.get('code') as string });
      expect(res.status).toBe(200);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function expectUnavailablePage(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('set-cookie')).toBeNull();
  const html = await res.text();
  expect(html).toContain('<title>Temporarily unavailable');
  expect(html).toContain('The service is busy or under maintenance. Please try again in a moment.');
  expect(html).not.toMatch(/ioredis|max retries|ECONN|timeout|stack/i);
}

function expectUnavailableToken(res: { status: number; body: unknown; headers: Headers }): void {
  expect(res.status).toBe(503);
  expect(res.body).toEqual(UNAVAILABLE_JSON);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
}

async function tokensInDb(): Promise<number> {
  const row = await t.db
    .selectFrom('access_tokens')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function codesInRedis(): Promise<number> {
  return (await redis.store.redis.keys(`${redis.keyPrefix}code:*`)).length;
}

describe('Redis unreachable', () => {
  it('answers 503 pages, 503 JSON with Retry-After, stores and issues nothing, then resumes by itself', async () => {
    const { browser, consent } = await toConsent();
    const before = await toConsent();
    const approved = new URL((await decision(before.browser, before.consent)).headers.get('location') as string);
    const code = approved.searchParams.get('code') as string;
    const tokensBefore = await tokensInDb();

    redisProxy.cut();
    const started = Date.now();
    // Before client and redirect URI are validated (session and rate limit live in Redis): our page.
    await expectUnavailablePage(await fetch(`${ui}/oauth/authorize?${AUTH_QUERY}`, { redirect: 'manual' }));
    // Regression: GET /login used to leak Fastify's JSON and the ioredis message after 16 s.
    await expectUnavailablePage(await fetch(`${ui}/login`));
    // The sign-in POST, which the per-address rate limit guards (its counters live in Redis too): our page, not
    // the limiter's error as Fastify's JSON.
    await expectUnavailablePage(
      await fetch(`${ui}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: 'ada@example.com', password: 'lovelace-1815', return_to: '/', _csrf: 'x' }).toString(),
        redirect: 'manual',
      }),
    );
    await expectUnavailablePage(await decision(browser, consent));
    expectUnavailableToken(await exchange(token, { ...partner, code }));
    expect(Date.now() - started).toBeLessThan(8_000);
    // The instance stays routable (every instance shares this Redis): the outage shows, by name, in the body.
    const ready = await fetch(`${token}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'degraded', checks: { postgres: 'ok', redis: 'failed', migrations: 'ok' } });

    redisProxy.restore();
    // The code was never consumed while Redis was away: it still works, once.
    const deadline = Date.now() + 10_000;
    let res = await exchange(token, { ...partner, code });
    while (res.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      res = await exchange(token, { ...partner, code });
    }
    expect(res.status).toBe(200);
    expect(await tokensInDb()).toBe(tokensBefore + 1);
    await flowSucceeds();
  });

  it('after validation, a decision whose code cannot be stored redirects with temporarily_unavailable and no code', async () => {
    await flowSucceeds();
    const { browser, consent } = await toConsent();
    const codesBefore = await codesInRedis();
    // Redis vanishes exactly as the code is being stored: the consent was valid, the partner must hear of it.
    redisProxy.failOn({ pattern: 'code:', action: 'cut' });
    const res = await decision(browser, consent);
    expect(res.status).toBe(303);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('location')).toBe(`${CALLBACK}?error=temporarily_unavailable&state=fault-state&iss=${encodeURIComponent(ui)}`);
    expect(await codesInRedis()).toBe(codesBefore);
    redisProxy.restore();
    await flowSucceeds();
  });
});

describe('Postgres unreachable', () => {
  it('answers 503 everywhere, issues no token, and resumes by itself', async () => {
    const { browser, consent } = await toConsent();
    const approved = new URL((await decision(browser, consent)).headers.get('location') as string);
    const code = approved.searchParams.get('code') as string;
    const tokensBefore = await tokensInDb();
    const other = await toConsent();
    // The orchestrator's probes found both instances ready (schema current) before the outage.
    for (const base of [token, registry]) expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    pgProxy.cut();
    await expectUnavailablePage(await fetch(`${ui}/oauth/authorize?${AUTH_QUERY}`, { redirect: 'manual' }));
    // The consent was validated against Postgres: its client lookup fails before validation, so our page.
    await expectUnavailablePage(await decision(other.browser, other.consent));
    expectUnavailableToken(await exchange(token, { ...partner, code }));
    const admin = await fetch(`${registry}/v1/clients/shoplifter`, { headers: { authorization: `Bearer ${DEV_ADMIN_KEY}` } });
    expect(admin.status).toBe(503);
    expect(admin.headers.get('retry-after')).toBe('5');
    expect(await admin.json()).toEqual({
      error: 'temporarily_unavailable',
      message: 'the service is temporarily unavailable, retry later',
    });
    // The cause, not what follows from it: the schema was found current before the outage and still is.
    for (const [base, checks] of [
      [token, { postgres: 'failed', redis: 'ok', migrations: 'ok' }],
      [registry, { postgres: 'failed', migrations: 'ok' }],
    ] as const) {
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'degraded', checks });
    }

    pgProxy.restore();
    // Client authentication failed before the code was touched: it is still good, once.
    const deadline = Date.now() + 10_000;
    let res = await exchange(token, { ...partner, code });
    while (res.status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      res = await exchange(token, { ...partner, code });
    }
    expect(res.status).toBe(200);
    expect(await tokensInDb()).toBe(tokensBefore + 1);
    await flowSucceeds();
  });
});
