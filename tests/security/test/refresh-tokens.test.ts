// Refresh tokens under attack (RFC 6749 §6, §10.4; RFC 9700 §4.14): reuse, a foreign client, expiry, narrowing, the
// throttle, and every path that ends an authorization, through the real consent flow of shoplifter-rotating.
import { sha256 } from '@partner-oauth/service-kit';
import { type Browser, hidden } from '@partner-oauth/test-support/browser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  addClient,
  basic,
  CALLBACK,
  introspect,
  issueCode,
  type Product,
  postForm,
  signedIn,
  startProduct,
  tokenInfoStatus,
} from './support/product.js';

let p: Product;
let browser: Browser;
const ROTATING = { client_id: 'shoplifter-rotating', client_secret: 'secret' };
/** The seeded demo setting: a five-minute access token; the refresh token's lifetimes are the registry defaults. */
const ACCESS_SECONDS = 300;
const IDLE_SECONDS = 30 * 24 * 3600;

beforeAll(async () => {
  p = await startProduct();
  await addClient(p.t.db, 'thief', { expiring_tokens: true, secret: 'thief-secret' });
});
afterAll(async () => p.close());
beforeEach(async () => {
  browser = await signedIn(p.ui);
});

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'the refresh token is invalid, expired, revoked or was issued to another client',
};

interface Pair {
  access_token: string;
  refresh_token: string;
}

/** Grace consents to shoplifter-rotating in the browser; the partner redeems the code. */
async function connect(tokens: FastifyInstance = p.tokens, creds: Record<string, string> = ROTATING): Promise<Pair & { app_id: string }> {
  const code = await issueCode(browser, { client_id: creds.client_id as string });
  const res = await postForm(tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...creds });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ expires_in: ACCESS_SECONDS, refresh_token: expect.stringMatching(/^port_/) });
  return res.json();
}

const refresh = (token: string, extra: Record<string, string> = {}, creds: Record<string, string> = ROTATING, tokens = p.tokens) =>
  postForm(tokens, '/oauth/token', { grant_type: 'refresh_token', refresh_token: token, ...creds, ...extra });

const admin = (method: 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  p.registry.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'if-match': '*',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

/** The authorization (family) a pair belongs to. */
async function authorizationOf(pair: Pair): Promise<string> {
  const row = await p.t.db
    .selectFrom('refresh_tokens')
    .select('authorization_id')
    .where('token_hash', '=', sha256(pair.refresh_token))
    .executeTakeFirstOrThrow();
  return row.authorization_id;
}

/** Once its authorization ends, nothing of the pair works any more. */
async function expectEnded(pair: Pair): Promise<void> {
  expect(await introspect(p.tokens, pair.access_token)).toEqual({ active: false });
  const res = await refresh(pair.refresh_token);
  expect(res.statusCode).toBe(400);
  expect(res.json()).toEqual(INVALID_GRANT);
}

describe('reuse of a rotated refresh token (RFC 9700 §4.14.2)', () => {
  it('an attacker replaying a stolen, already-rotated token ends the family: the victim too must consent again', async () => {
    const stolen = await connect();
    const victim = (await refresh(stolen.refresh_token)).json();
    const replay = await refresh(stolen.refresh_token);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toEqual(INVALID_GRANT);
    await expectEnded(victim);
    await expectEnded(stolen);
    // The victim uses the token the attacker would have used next: also ended, and it does not revive anything.
    expect((await refresh(victim.refresh_token)).json()).toEqual(INVALID_GRANT);
    const notice = await p.t.db
      .selectFrom('webhook_deliveries')
      .select(['reason', 'client_id'])
      .where('reason', '=', 'refresh_token_reused')
      .execute();
    expect(notice).toEqual([{ reason: 'refresh_token_reused', client_id: 'shoplifter-rotating' }]);
    // A new consent starts a new family that works.
    const fresh = await connect();
    expect((await refresh(fresh.refresh_token)).statusCode).toBe(200);
  });

  it('an attacker who rotates first leaves the victim with a reused token: the victim refreshing ends the attacker too', async () => {
    const pair = await connect();
    const attacker = (await refresh(pair.refresh_token)).json();
    expect((await refresh(pair.refresh_token)).json()).toEqual(INVALID_GRANT);
    await expectEnded(attacker);
  });
});

describe('a foreign client', () => {
  it('cannot refresh, revoke or learn anything with another client’s refresh token, and the token keeps working', async () => {
    const pair = await connect();
    const thief = { client_id: 'thief', client_secret: 'thief-secret' };
    const stolen = await refresh(pair.refresh_token, {}, thief);
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json()).toEqual(INVALID_GRANT);
    // The spec's client is not allowed the grant at all.
    const spec = await refresh(pair.refresh_token, {}, { client_id: 'shoplifter', client_secret: 'secret' });
    expect(spec.json()).toEqual({ error: 'unauthorized_client', error_description: 'the client is not allowed the refresh_token grant' });
    const revoke = await postForm(p.tokens, '/oauth/revoke', { token: pair.refresh_token, ...thief });
    expect(revoke.json().error).toBe('unauthorized_client');
    expect((await refresh(pair.refresh_token)).statusCode).toBe(200);
  });

  it('a refresh token is not a Bearer token, and an access token is not a refresh token', async () => {
    const pair = await connect();
    expect(await tokenInfoStatus(p.tokens, pair.refresh_token)).toBe(401);
    expect(await introspect(p.tokens, pair.refresh_token)).toEqual({ active: false });
    expect((await refresh(pair.access_token)).json()).toEqual(INVALID_GRANT);
  });
});

describe('expiry', () => {
  it('the access token ends at expires_in: 401 invalid_token at the API, active:false; the refresh token renews it', async () => {
    const pair = await connect();
    expect(await tokenInfoStatus(p.tokens, pair.access_token)).toBe(200);
    p.clock.advance(ACCESS_SECONDS * 1000 - 1000);
    expect(await tokenInfoStatus(p.tokens, pair.access_token)).toBe(200);
    p.clock.advance(1000);
    const res = await p.tokens.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${pair.access_token}` } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="partner-oauth", error="invalid_token", error_description="the access token is invalid, expired or revoked"',
    );
    expect(await introspect(p.tokens, pair.access_token)).toEqual({ active: false });
    expect((await refresh(pair.refresh_token)).statusCode).toBe(200);
  });

  it('an idle refresh token expires; rotation never carries a family past its absolute deadline', async () => {
    const idle = await connect();
    p.clock.advance(IDLE_SECONDS * 1000);
    expect((await refresh(idle.refresh_token)).json()).toEqual(INVALID_GRANT);
    // Grace's browser session has expired meanwhile: she signs in again to consent.
    browser = await signedIn(p.ui);
    // Absolute: rotate every 29 days; the 180-day family refuses the rotation at its deadline.
    let current = (await connect()).refresh_token;
    const start = p.clock.now();
    const absoluteMs = 180 * 24 * 3600 * 1000;
    while (p.clock.now() + 29 * 24 * 3600 * 1000 < start + absoluteMs) {
      p.clock.advance(29 * 24 * 3600 * 1000);
      const res = await refresh(current);
      expect(res.statusCode).toBe(200);
      current = res.json().refresh_token;
    }
    p.clock.advance(start + absoluteMs - p.clock.now());
    expect((await refresh(current)).json()).toEqual(INVALID_GRANT);
  });
});

describe('narrowing', () => {
  it('a refresh may narrow the access token, never widen it beyond the consent', async () => {
    const pair = await connect();
    const wide = await refresh(pair.refresh_token, { scope: 'app:read conversations:read conversations:write webhooks:manage' });
    expect(wide.json()).toEqual({ error: 'invalid_scope', error_description: 'scope may only narrow the scope granted' });
    const unknown = await refresh(pair.refresh_token, { scope: 'admin' });
    expect(unknown.json().error).toBe('invalid_scope');
    const narrow = await refresh(pair.refresh_token, { scope: 'app:read' });
    expect(narrow.json().scope).toBe('app:read');
    expect(await introspect(p.tokens, narrow.json().access_token)).toMatchObject({ active: true, scope: 'app:read' });
  });
});

describe('repeated refresh failures count toward the client throttle', () => {
  it('answers 429 after the limit, even for a valid token, which is not consumed', async () => {
    // A client of its own: the throttle counts per client id, and the other cases' refusals count for shoplifter-rotating.
    await addClient(p.t.db, 'throttled', { expiring_tokens: true, access_token_lifetime: ACCESS_SECONDS, redirect_uris: [CALLBACK] });
    const creds = { client_id: 'throttled', client_secret: 'throttled-secret' };
    const limited = await p.extraTokens({ INVALID_GRANTS_PER_MINUTE: '3' });
    const pair = await connect(limited, creds);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await refresh(`port_${'A'.repeat(43)}`, {}, creds, limited)).statusCode);
    statuses.push((await refresh(pair.refresh_token, {}, creds, limited)).statusCode);
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    // Refused before the grant ran: the token was not rotated, so no reuse was recorded against it.
    const row = await p.t.db
      .selectFrom('refresh_tokens')
      .select('used_at')
      .where('token_hash', '=', sha256(pair.refresh_token))
      .executeTakeFirstOrThrow();
    expect(row.used_at).toBeNull();
  });
});

describe('every ending path ends refresh tokens', () => {
  it('the owner removes the integration', async () => {
    const pair = await connect();
    const page = await browser.get('/integrations');
    const removed = await browser.post('/integrations/remove', {
      _csrf: hidden(page.body, '_csrf'),
      authorization_id: await authorizationOf(pair),
    });
    expect(removed.statusCode).toBe(303);
    await expectEnded(pair);
  });

  it('the partner gives the access back (DELETE /oauth/authorization)', async () => {
    const pair = await connect();
    const res = await p.tokens.inject({
      method: 'DELETE',
      url: '/oauth/authorization',
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(res.statusCode).toBe(200);
    await expectEnded(pair);
  });

  it('RFC 7009 revocation of the refresh token (with client_secret_basic)', async () => {
    const pair = await connect();
    const res = await postForm(
      p.tokens,
      '/oauth/revoke',
      { token: pair.refresh_token },
      { authorization: basic('shoplifter-rotating', 'secret') },
    );
    expect(res.statusCode).toBe(200);
    await expectEnded(pair);
  });

  it('RFC 7009 revocation of the access token keeps the refresh token (the partner still holds access)', async () => {
    const pair = await connect();
    expect((await postForm(p.tokens, '/oauth/revoke', { token: pair.access_token, ...ROTATING })).statusCode).toBe(200);
    expect(await introspect(p.tokens, pair.access_token)).toEqual({ active: false });
    expect((await refresh(pair.refresh_token)).statusCode).toBe(200);
  });

  it('an admin ends the authorization', async () => {
    const pair = await connect();
    expect((await admin('DELETE', `/v1/clients/shoplifter-rotating/authorizations/${await authorizationOf(pair)}`)).statusCode).toBe(204);
    await expectEnded(pair);
  });

  it('the kill switch (disable), and re-enabling revives nothing', async () => {
    const pair = await connect();
    expect((await admin('PATCH', '/v1/clients/shoplifter-rotating', { status: 'disabled' })).statusCode).toBe(200);
    expect((await admin('PATCH', '/v1/clients/shoplifter-rotating', { status: 'active' })).statusCode).toBe(200);
    await expectEnded(pair);
  });

  it('the client deleted: its refresh tokens go with it', async () => {
    await addClient(p.t.db, 'doomed-rotating', { expiring_tokens: true, redirect_uris: ['https://doomed.example/callback'] });
    const code = await issueCode(browser, { client_id: 'doomed-rotating' });
    const creds = { client_id: 'doomed-rotating', client_secret: 'doomed-rotating-secret' };
    const pair = (await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...creds })).json();
    expect((await admin('DELETE', '/v1/clients/doomed-rotating')).statusCode).toBe(204);
    expect(await p.t.db.selectFrom('refresh_tokens').select('id').where('client_id', '=', 'doomed-rotating').execute()).toEqual([]);
    expect(await introspect(p.tokens, pair.access_token)).toEqual({ active: false });
  });
});

describe('turning the setting on and off', () => {
  it('applies to tokens issued afterwards; existing tokens keep their terms; off refuses the grant', async () => {
    // shoplifter (spec) token issued before the setting is turned on: it keeps working without expiry.
    const before = (
      await postForm(p.tokens, '/oauth/token', {
        grant_type: 'authorization_code',
        code: await issueCode(browser),
        client_id: 'shoplifter',
        client_secret: 'secret',
      })
    ).json();
    expect(before).not.toHaveProperty('refresh_token');
    expect((await admin('PATCH', '/v1/clients/shoplifter', { expiring_tokens: true })).statusCode).toBe(200);
    const after = (
      await postForm(p.tokens, '/oauth/token', {
        grant_type: 'authorization_code',
        code: await issueCode(browser),
        client_id: 'shoplifter',
        client_secret: 'secret',
      })
    ).json();
    expect(after).toMatchObject({ expires_in: 43_200, refresh_token: expect.stringMatching(/^port_/) });
    p.clock.advance(43_200_000);
    expect(await tokenInfoStatus(p.tokens, before.access_token)).toBe(200);
    expect(await tokenInfoStatus(p.tokens, after.access_token)).toBe(401);
    expect((await admin('PATCH', '/v1/clients/shoplifter', { expiring_tokens: false })).statusCode).toBe(200);
    const refused = await refresh(after.refresh_token, {}, { client_id: 'shoplifter', client_secret: 'secret' });
    expect(refused.json().error).toBe('unauthorized_client');
    expect(await tokenInfoStatus(p.tokens, before.access_token)).toBe(200);
  });
});

describe('a replayed code (RFC 6749 §4.1.2)', () => {
  it('ends every token issued from it: the refresh token, its rotations, and the access tokens they gave', async () => {
    const code = await issueCode(browser, { client_id: 'shoplifter-rotating' });
    const first = (await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...ROTATING })).json() as Pair;
    const rotated = (await refresh(first.refresh_token)).json() as Pair;
    const replay = await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...ROTATING });
    expect(replay.json().error).toBe('invalid_grant');
    for (const token of [first.access_token, rotated.access_token]) expect(await introspect(p.tokens, token)).toEqual({ active: false });
    expect((await refresh(rotated.refresh_token)).json()).toEqual(INVALID_GRANT);
  });
});
