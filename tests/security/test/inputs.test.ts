// RFC 6819 §5.1.4.2, RFC 6749 §3.1-§3.2: hostile inputs (SQL injection, sizes, content types, methods, bytes) get a plain 4xx.
import { sha256 } from '@partner-oauth/service-kit';
import { Browser, heading, hidden } from '@partner-oauth/test-support/browser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  authorizeUrl,
  basic,
  consent,
  countTokens,
  GRACE,
  introspect,
  issueCode,
  type Product,
  postForm,
  redeem,
  redisKeys,
  registryPost,
  SHOPLIFTER,
  signedIn,
  startProduct,
} from './support/product.js';

let p: Product;
let browser: Browser;

const SQLI = [
  "' OR '1'='1",
  "'; DROP TABLE clients; --",
  "shoplifter' --",
  '" OR ""="',
  '1; SELECT pg_sleep(5); --',
  "' UNION SELECT secret_hash FROM client_secrets --",
];

async function tableCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['accounts', 'apps', 'app_members', 'clients', 'client_secrets', 'resource_servers'] as const) {
    counts[table] = Number(
      (
        await p.t.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  }
  return counts;
}
let countsAtStart: Record<string, number>;

beforeAll(async () => {
  p = await startProduct();
  browser = await signedIn(p.ui);
  countsAtStart = await tableCounts();
});
afterAll(async () => p.close());

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };

describe('SQL injection payloads', () => {
  it('SQL injection in client_id, redirect_uri and state at /oauth/authorize: the unknown-partner page', async () => {
    for (const payload of SQLI) {
      const res = await browser.get(authorizeUrl({ client_id: payload, redirect_uri: payload, state: payload }));
      expect(res.statusCode).toBe(400);
      expect(heading(res.body)).toBe('Unknown partner');
    }
  });

  it('SQL injection in scope at /oauth/authorize: invalid_scope to the registered URI', async () => {
    for (const payload of SQLI) {
      const res = await browser.get(authorizeUrl({ scope: payload }));
      expect(res.statusCode).toBe(302);
      expect(new URL(String(res.headers.location)).searchParams.get('error')).toBe('invalid_scope');
    }
  });

  it('SQL injection in the login email and password: 401 and the login page', async () => {
    for (const payload of SQLI) {
      const res = await new Browser(p.ui).login(payload, payload);
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('action="/login"');
    }
  });

  it('SQL injection in client_id, client_secret and code at /oauth/token: 401 invalid_client', async () => {
    for (const payload of SQLI) {
      const res = await postForm(p.tokens, '/oauth/token', {
        grant_type: 'authorization_code',
        code: payload,
        client_id: payload,
        client_secret: payload,
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(INVALID_CLIENT);
    }
  });

  it('SQL injection in the Basic credentials: 401 invalid_client', async () => {
    for (const payload of SQLI) {
      const res = await postForm(
        p.tokens,
        '/oauth/token',
        { grant_type: 'authorization_code', code: 'x' },
        { authorization: basic(payload, payload) },
      );
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(INVALID_CLIENT);
    }
  });

  it('SQL injection in code, redirect_uri and code_verifier with valid credentials: invalid_grant, no token', async () => {
    for (const payload of SQLI) {
      const res = await redeem(p.tokens, payload, { redirect_uri: payload, code_verifier: payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_grant');
    }
    expect(await countTokens(p.t.db)).toBe(0);
  });

  it('SQL injection in the token to introspect, revoke and tokenInfo: inactive, 200 {} and 400', async () => {
    for (const payload of SQLI) {
      expect(await introspect(p.tokens, payload)).toEqual({ active: false });
      const revoke = await postForm(p.tokens, '/oauth/revoke', { token: payload, ...SHOPLIFTER });
      expect([revoke.statusCode, revoke.json()]).toEqual([200, {}]);
      const info = await p.tokens.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${payload}` } });
      expect(info.statusCode).toBe(400);
      expect(info.json()).toEqual({ error: 'invalid_request', error_description: 'malformed Authorization header' });
    }
  });

  it('SQL injection in request_id and app_id of the consent steps: expired request and not-your-app pages, no code', async () => {
    const { requestId, csrf } = await consent(browser);
    for (const payload of SQLI) {
      const consentPage = await browser.get(`/oauth/consent?${new URLSearchParams({ request_id: requestId, app_id: payload })}`);
      expect(consentPage.statusCode).toBe(403);
      expect(heading(consentPage.body)).toBe('Not your app');
      const decision = await browser.post('/oauth/decision', { _csrf: csrf, request_id: payload, app_id: payload, decision: 'allow' });
      expect(decision.statusCode).toBe(400);
      expect(heading(decision.body)).toBe('This request has expired');
    }
  });

  it('SQL injection in the registry path, list filter and client fields: 404, no match, stored literally', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const payload of SQLI) {
      const read = await p.registry.inject({ method: 'GET', url: `/v1/clients/${encodeURIComponent(payload)}`, headers: auth });
      expect(read.statusCode).toBe(404);
      expect(read.json()).toEqual({ error: 'not_found', message: 'client not found' });
    }
    const created = await registryPost(p.registry, '/v1/clients', {
      client_name: SQLI[1],
      description: SQLI[0],
      redirect_uris: ['https://sqli.example/callback'],
    });
    expect(created.statusCode).toBe(201);
    const read = await p.registry.inject({ method: 'GET', url: `/v1/clients/${created.json().client_id}`, headers: auth });
    expect(read.json()).toMatchObject({ client_name: SQLI[1], description: SQLI[0] });
    // LIKE wildcards in the search text match literally: "%" finds no name without a "%".
    const list = await p.registry.inject({ method: 'GET', url: '/v1/clients?client_name=%25', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ items: [], next_cursor: null });
    countsAtStart.clients = (countsAtStart.clients ?? 0) + 1;
    countsAtStart.client_secrets = (countsAtStart.client_secrets ?? 0) + 1;
  });

  it('SQL injection leaves the database intact: same rows, and the demo flow still works end to end', async () => {
    expect(await tableCounts()).toEqual(countsAtStart);
    const res = await redeem(p.tokens, await issueCode(browser));
    expect(res.statusCode).toBe(200);
  });
});

describe('sizes', () => {
  const big = (n: number) => 'a'.repeat(n);

  it('oversized body at /oauth/token (over 16 KiB): 413 invalid_request', async () => {
    const res = await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code: big(17 * 1024), ...SHOPLIFTER });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'bad request' });
  });

  it('oversized body at POST /login (over 16 KiB): 413 page', async () => {
    const page = await new Browser(p.ui).get('/login');
    const res = await p.ui.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [page.headers['set-cookie']].flat()[0]?.split(';')[0] ?? '' },
      payload: `email=${big(17 * 1024)}&password=x&_csrf=${hidden(page.body, '_csrf')}`,
    });
    expect(res.statusCode).toBe(413);
    expect(heading(res.body)).toBe('Invalid request');
  });

  it('oversized body at the registry (over 64 KiB): 413', async () => {
    const res = await registryPost(p.registry, '/v1/clients', {
      client_name: 'x',
      description: big(70 * 1024),
      redirect_uris: ['https://a.example/cb'],
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'body: is too large' });
  });

  it('oversized parameter at /oauth/token (a 5000-character code): 400 invalid_request, nothing looked up', async () => {
    const res = await redeem(p.tokens, big(5000));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'malformed request' });
  });

  it('oversized parameter at POST /login (a 400-character email): 400 page', async () => {
    const res = await new Browser(p.ui).login(`${big(400)}@example.com`, 'x');
    expect(res.statusCode).toBe(400);
    expect(heading(res.body)).toBe('Invalid request');
  });

  it('oversized client_id at /oauth/authorize (10 000 characters): the unknown-partner page', async () => {
    const res = await browser.get(authorizeUrl({ client_id: big(10_000) }));
    expect(res.statusCode).toBe(400);
    expect(heading(res.body)).toBe('Unknown partner');
  });
});

describe('content types and methods', () => {
  let code: string;
  beforeAll(async () => {
    code = await issueCode(browser);
  });

  const tokenWith = (contentType: string, payload: string) =>
    p.tokens.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': contentType }, payload });

  it('JSON where a form is expected at /oauth/token: 400 invalid_request, the code is not consumed', async () => {
    const res = await tokenWith('application/json', JSON.stringify({ grant_type: 'authorization_code', code, ...SHOPLIFTER }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'the body must be application/x-www-form-urlencoded' });
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  for (const [what, contentType] of [
    ['text/plain', 'text/plain'],
    ['application/xml', 'application/xml'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
  ] as const) {
    it(`wrong content type ${what} at /oauth/token: 400 invalid_request, no token`, async () => {
      const res = await tokenWith(contentType, `grant_type=authorization_code&code=${code}&client_id=shoplifter&client_secret=secret`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_request');
      expect(await countTokens(p.t.db, sha256(code))).toBe(0);
    });
  }

  it('CORS-simple text/plain body carrying a login form: refused, nobody signed in', async () => {
    const victim = new Browser(p.ui);
    const page = await victim.get('/login');
    const res = await p.ui.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'text/plain', cookie: victim.cookieHeader() ?? '' },
      payload: `email=${GRACE.email}&password=${GRACE.password}&_csrf=${hidden(page.body, '_csrf')}`,
    });
    expect([400, 403, 415]).toContain(res.statusCode);
    expect(res.headers.location).toBeUndefined();
  });

  it('JSON where a form is expected at POST /login without the form token: 403, nobody signed in', async () => {
    const victim = new Browser(p.ui);
    await victim.get('/login');
    const res = await p.ui.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/json', cookie: victim.cookieHeader() ?? '' },
      payload: JSON.stringify(GRACE),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers.location).toBeUndefined();
  });

  it('form where JSON is expected at the registry: 4xx and nothing stored', async () => {
    const before = await tableCounts();
    const res = await p.registry.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'client_name=x&redirect_uris=https://a.example/cb',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'content-type: must be application/json' });
    expect(await tableCounts()).toEqual(before);
  });

  const getOnPost: [string, () => FastifyInstance, string][] = [
    ['/oauth/token', () => p.tokens, `/oauth/token?grant_type=authorization_code&client_id=shoplifter&client_secret=secret&code=`],
    ['/oauth/revoke', () => p.tokens, '/oauth/revoke?token=x&client_id=shoplifter&client_secret=secret'],
    ['/oauth/introspect', () => p.tokens, '/oauth/introspect?token=x'],
  ];
  for (const [endpoint, app, url] of getOnPost) {
    it(`GET on POST endpoint ${endpoint}: 404, credentials in the URL are never used`, async () => {
      const res = await app().inject({ method: 'GET', url: endpoint === '/oauth/token' ? `${url}${code}` : url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
      expect(await countTokens(p.t.db, sha256(code))).toBe(0);
    });
  }

  it('GET on POST endpoint /oauth/decision: the not-found page and no code', async () => {
    const { requestId, appId, csrf } = await consent(browser);
    const res = await browser.get(
      `/oauth/decision?${new URLSearchParams({ _csrf: csrf, request_id: requestId, app_id: appId, decision: 'allow' })}`,
    );
    expect(res.statusCode).toBe(404);
    expect(heading(res.body)).toBe('Page not found');
    expect(res.headers.location).toBeUndefined();
  });

  it('GET on POST endpoint /logout: the not-found page and the session survives', async () => {
    const res = await browser.get('/logout');
    expect(res.statusCode).toBe(404);
    expect((await browser.get('/')).statusCode).toBe(200);
  });

  it('after every content-type and method attack the code is still unused and redeemable', async () => {
    expect((await redeem(p.tokens, code)).statusCode).toBe(200);
  });
});

describe('bytes', () => {
  it('non-UTF-8 bytes in the /oauth/token body: 401 invalid_client', async () => {
    const payload = Buffer.concat([
      Buffer.from('grant_type=authorization_code&code=x&client_id='),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('&client_secret=secret'),
    ]);
    const res = await p.tokens.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload,
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(INVALID_CLIENT);
  });

  it('percent-encoded non-UTF-8 bytes in /oauth/authorize: the unknown-partner page', async () => {
    const res = await browser.get('/oauth/authorize?client_id=%FF%FE%C3&response_type=code');
    expect(res.statusCode).toBe(400);
    expect(heading(res.body)).toBe('Unknown partner');
  });

  it('a NUL byte in client_id at /oauth/authorize: the invalid-request page, not a server error', async () => {
    const res = await browser.get('/oauth/authorize?client_id=shop%00lifter&response_type=code');
    expect(res.statusCode).toBe(400);
    expect(heading(res.body)).toBe('Invalid request');
    expect(res.headers.location).toBeUndefined();
  });

  it('a NUL byte in client_id at /oauth/token: 401 invalid_client, not a server error', async () => {
    const res = await postForm(p.tokens, '/oauth/token', {
      grant_type: 'authorization_code',
      code: 'x',
      client_id: 'shop\u0000lifter',
      client_secret: 'secret',
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(INVALID_CLIENT);
  });

  it('a NUL byte in the login email: the invalid-request page, not a server error, nobody signed in', async () => {
    const res = await new Browser(p.ui).login('grace\u0000@example.com', GRACE.password);
    expect(res.statusCode).toBe(400);
    expect(heading(res.body)).toBe('Invalid request');
    expect(res.headers.location).toBeUndefined();
  });

  it('a NUL byte in app_id of the consent steps: the invalid-request page, not a server error, no code', async () => {
    const { requestId, csrf } = await consent(browser);
    const before = (await redisKeys(p.redis, 'code:*')).length;
    const res = await browser.post('/oauth/decision', { _csrf: csrf, request_id: requestId, app_id: 'app\u0000id', decision: 'allow' });
    expect(res.statusCode).toBe(400);
    expect(heading(res.body)).toBe('Invalid request');
    expect(res.headers.location).toBeUndefined();
    expect((await redisKeys(p.redis, 'code:*')).length).toBe(before);
  });

  it('a NUL byte in the registry path and in a client name: 400, not a server error, nothing stored', async () => {
    const before = await tableCounts();
    const res = await p.registry.inject({
      method: 'GET',
      url: '/v1/clients/shop%00lifter',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
    const created = await registryPost(p.registry, '/v1/clients', {
      client_name: 'nul\u0000name',
      redirect_uris: ['https://nul.example/cb'],
    });
    expect(created.statusCode).toBe(400);
    expect(created.json().error).toBe('invalid_request');
    expect(await tableCounts()).toEqual(before);
  });

  it('control characters in state are carried percent-encoded, never as raw header bytes', async () => {
    const res = await browser.get(authorizeUrl({ response_type: 'token', state: 'a\r\nSet-Cookie: x=y\u0000' }));
    expect(res.statusCode).toBe(302);
    const location = String(res.headers.location);
    for (const raw of ['\r', '\n', '\u0000']) expect(location).not.toContain(raw);
    expect(new URL(location).searchParams.get('state')).toBe('a\r\nSet-Cookie: x=y\u0000');
    expect(JSON.stringify(res.headers)).not.toContain('x=y');
  });
});
