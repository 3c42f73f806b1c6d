// RFC 6819 §5.1.4.1, RFC 9700 §4.14 / ARCHITECTURE: secrets never stored in clear and never written to any log line.

import { Browser, hidden } from '@partner-oauth/test-support/browser';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, basic, GRACE, type Product, postForm, registryPost, startProduct } from './support/product.js';

const lines: string[] = [];
const stream = { write: (line: string) => void lines.push(line) };
let p: Product;

/** Every secret the flow handled, by name, for the failure message. */
const secrets: Record<string, string> = {};

beforeAll(async () => {
  // Every request line written (LOG_REQUESTS=all): the most there is to leak from.
  p = await startProduct({
    ui: { LOG_REQUESTS: 'all' },
    tokens: { LOG_REQUESTS: 'all' },
    registry: { LOG_REQUESTS: 'all' },
    logger: () => ({ level: 'trace', stream }),
  });

  // A partner registered through the admin API, with a secret of its own.
  const created = await registryPost(p.registry, '/v1/clients', {
    client_name: 'Log Probe',
    redirect_uris: ['https://logs.example/callback'],
    scope: 'app:read',
  });
  expect(created.statusCode).toBe(201);
  const { client_id: clientId, client_secret: clientSecret } = created.json() as { client_id: string; client_secret: string };
  secrets.clientSecret = clientSecret;
  secrets.adminToken = ADMIN_TOKEN;
  if (created.json().webhook_secret) secrets.webhookSecret = created.json().webhook_secret;

  // authorize -> login (one failure first) -> consent -> decision
  const browser = new Browser(p.ui);
  const authorize = `/oauth/authorize?client_id=${clientId}&response_type=code&state=log-state`;
  const toLogin = await browser.get(authorize);
  expect(toLogin.statusCode).toBe(302);
  const loginPage = await browser.get(String(toLogin.headers.location));
  const csrf = hidden(loginPage.body, '_csrf');
  secrets.loginCsrf = csrf;
  await browser.post('/login', { email: GRACE.email, password: 'hopper-1906-wrong', return_to: authorize, _csrf: csrf });
  const signedIn = await browser.post('/login', { email: GRACE.email, password: GRACE.password, return_to: authorize, _csrf: csrf });
  expect(signedIn.statusCode).toBe(303);
  secrets.password = GRACE.password;
  secrets.sessionCookie = browser.cookies.get('sid') as string;
  secrets.sessionId = secrets.sessionCookie.split('.')[0] as string;
  const consentPage = await browser.get(authorize);
  expect(consentPage.statusCode).toBe(200);
  secrets.consentCsrf = hidden(consentPage.body, '_csrf');
  const decision = await browser.post('/oauth/decision', {
    _csrf: secrets.consentCsrf,
    request_id: hidden(consentPage.body, 'request_id'),
    app_id: hidden(consentPage.body, 'app_id'),
    decision: 'allow',
  });
  expect(decision.statusCode).toBe(303);
  const code = new URL(String(decision.headers.location)).searchParams.get('code') as string;
  secrets.code = code;

  // A code in a URL by mistake: logged without its query string.
  await p.tokens.inject({ method: 'GET', url: `/oauth/token?code=${code}&client_secret=${clientSecret}` });
  // token (one failed client authentication first) -> tokenInfo -> introspect -> revoke
  await postForm(p.tokens, '/oauth/token', {
    grant_type: 'authorization_code',
    code,
    client_id: clientId,
    client_secret: `${clientSecret}x`,
  });
  const token = await postForm(
    p.tokens,
    '/oauth/token',
    { grant_type: 'authorization_code', code },
    { authorization: basic(clientId, clientSecret) },
  );
  expect(token.statusCode).toBe(200);
  secrets.accessToken = token.json().access_token as string;
  const accessToken = secrets.accessToken;
  const info = await p.tokens.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${secrets.accessToken}` } });
  expect(info.statusCode).toBe(200);
  const introspected = await postForm(
    p.tokens,
    '/oauth/introspect',
    { token: accessToken },
    { authorization: basic('platform-api', 'platform-api-secret') },
  );
  expect(introspected.json()).toMatchObject({ active: true });
  secrets.resourceServerSecret = 'platform-api-secret';
  const revoked = await postForm(p.tokens, '/oauth/revoke', {
    token: secrets.accessToken,
    client_id: clientId,
    client_secret: clientSecret,
  });
  expect(revoked.statusCode).toBe(200);
  const after = await p.tokens.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${secrets.accessToken}` } });
  expect(after.statusCode).toBe(401);
  // A replay of the code, which revokes and logs.
  await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code }, { authorization: basic(clientId, clientSecret) });

  // Expiring tokens (issue 14): shoplifter-rotating's exchange, a refresh, then a reuse of the rotated token (audited, logged).
  const rotatingConsent = await browser.get('/oauth/authorize?client_id=shoplifter-rotating&response_type=code&state=log-rotating');
  expect(rotatingConsent.statusCode).toBe(200);
  const rotatingDecision = await browser.post('/oauth/decision', {
    _csrf: hidden(rotatingConsent.body, '_csrf'),
    request_id: hidden(rotatingConsent.body, 'request_id'),
    app_id: hidden(rotatingConsent.body, 'app_id'),
    decision: 'allow',
  });
  const rotatingCode = new URL(String(rotatingDecision.headers.location)).searchParams.get('code') as string;
  const rotating = { client_id: 'shoplifter-rotating', client_secret: 'secret' };
  const first = await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code: rotatingCode, ...rotating });
  expect(first.statusCode).toBe(200);
  secrets.refreshToken = first.json().refresh_token as string;
  const second = await postForm(p.tokens, '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: secrets.refreshToken,
    ...rotating,
  });
  expect(second.statusCode).toBe(200);
  secrets.rotatedAccessToken = second.json().access_token as string;
  secrets.rotatedRefreshToken = second.json().refresh_token as string;
  const reuse = await postForm(p.tokens, '/oauth/token', { grant_type: 'refresh_token', refresh_token: secrets.refreshToken, ...rotating });
  expect(reuse.json().error).toBe('invalid_grant');
});
afterAll(async () => p.close());

describe('secrets in logs', () => {
  it('log capture: no line of any app carries the code, the token, the client secret, the password, the session cookie or a CSRF token', async () => {
    const services = new Set(lines.map((l) => JSON.parse(l).service));
    expect([...services].sort()).toEqual(['authorize-ui', 'client-registry', 'token-service']);
    // One line per request (LOG_REQUESTS=all), each with the request's method and path, plus the apps' own lines.
    expect(lines.length).toBeGreaterThan(15);
    for (const [name, value] of Object.entries(secrets)) {
      const leaking = lines.filter((line) => line.includes(value));
      expect([name, leaking]).toEqual([name, []]);
    }
  });

  it('log capture: URLs are logged without their query strings', async () => {
    const urls = lines.map((l) => JSON.parse(l).req?.url).filter((u): u is string => typeof u === 'string');
    expect(urls).toContain('/oauth/token?[redacted]');
    expect(urls.some((u) => u.startsWith('/oauth/authorize?[redacted]'))).toBe(true);
    for (const url of urls) expect(url).toMatch(/^[^?]*(\?\[redacted\])?$/);
  });
});

describe('secrets at rest', () => {
  it('at rest in Postgres: no row of any table holds the code, the token, the client secret or the password in clear', async () => {
    const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public'`.execute(p.t.db);
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { tablename } of tables.rows) {
      const rows = await sql<{ row: string }>`select row_to_json(t)::text as row from ${sql.table(tablename)} t`.execute(p.t.db);
      for (const { row } of rows.rows) {
        for (const name of [
          'code',
          'accessToken',
          'clientSecret',
          'password',
          'sessionId',
          'adminToken',
          'resourceServerSecret',
          'refreshToken',
          'rotatedAccessToken',
          'rotatedRefreshToken',
        ] as const) {
          expect([tablename, name, row.includes(secrets[name] as string)]).toEqual([tablename, name, false]);
        }
      }
    }
  });

  it('at rest in Redis: no key or value holds the code, the token, the client secret, the password or the session id in clear', async () => {
    const keys = await p.redis.store.redis.keys(`${p.redis.keyPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const full of keys) {
      const key = full.slice(p.redis.keyPrefix.length);
      const type = await p.redis.store.redis.type(key);
      const value = type === 'string' ? ((await p.redis.store.get(key)) ?? '') : JSON.stringify(await p.redis.store.redis.hgetall(key));
      for (const name of ['code', 'accessToken', 'clientSecret', 'password', 'sessionId', 'refreshToken', 'rotatedRefreshToken'] as const) {
        const secret = secrets[name] as string;
        expect([key, name, key.includes(secret) || value.includes(secret)]).toEqual([key, name, false]);
      }
    }
  });
});
