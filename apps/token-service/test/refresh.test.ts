// Expiring tokens and refresh-token rotation at the token endpoint (RFC 6749 §6, RFC 9700 §4.14.2), through inject()
// on real Postgres and Redis with a fake clock: the exchange, rotation, reuse, narrowing, expiry, errors, revocation.
import type { CodeGrant } from '@partner-oauth/ephemeral-store';
import { FakeClock, sha256 } from '@partner-oauth/service-kit';
import { listAudit } from '@partner-oauth/storage';
import { addTestClient, liveTokensUnderEndedAuthorizations } from '@partner-oauth/storage/testing';
import { describe, expect, it } from 'vitest';
import { PLATFORM_API, useApp } from './helpers.js';

const clock = new FakeClock(Date.parse('2026-11-30T09:00:00.000Z'));
const ACCESS = 600;
const IDLE = 7200;
const h = useApp({
  clock,
  env: { CLIENT_AUTH_FAILURES_PER_MINUTE: '1000', INVALID_GRANTS_PER_MINUTE: '1000' },
  prepare: async (t) => {
    await addTestClient(t.db, 'rotating', {
      expiring_tokens: true,
      access_token_lifetime: ACCESS,
      refresh_token_idle_lifetime: IDLE,
      refresh_token_absolute_lifetime: 86_400,
      allowed_scopes: ['app:read', 'conversations:read'],
      remove_url: 'https://rotating.example/removed',
      secret: 'rotating-secret',
    });
    await addTestClient(t.db, 'rotating-2', { expiring_tokens: true, secret: 'rotating-2-secret' });
  },
});

const rotating = { client_id: 'rotating', client_secret: 'rotating-secret' };
const postForm: typeof h.postForm = (...args) => h.postForm(...args);
const rsBasic = PLATFORM_API;
const introspect = async (token: string) => (await postForm('/oauth/introspect', { token }, rsBasic)).json();
const refresh = (refresh_token: string, extra: Record<string, string> = {}, creds: Record<string, string> = rotating) =>
  postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token, ...creds, ...extra });

let appCounter = 0;
/** A code exchange by `rotating` on a fresh app (so each test has its own family). */
async function exchange(): Promise<{ appId: string; access_token: string; refresh_token: string; body: Record<string, unknown> }> {
  const appId = `app-rt-${++appCounter}`;
  await h.t.db
    .insertInto('apps')
    .values({ id: appId, name: `Refresh ${appCounter}` })
    .execute();
  const grant: CodeGrant = {
    clientId: 'rotating',
    appId,
    accountId: h.t.ids.accounts['ada@example.com'] as string,
    redirectUri: 'https://rotating.example/callback',
    redirectUriSent: false,
    scope: 'app:read conversations:read',
  };
  const res = await postForm('/oauth/token', { grant_type: 'authorization_code', code: await h.codes.issue(grant), ...rotating });
  expect(res.statusCode).toBe(200);
  const body = res.json();
  return { appId, access_token: body.access_token, refresh_token: body.refresh_token, body };
}

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'the refresh token is invalid, expired, revoked or was issued to another client',
};

describe('the code exchange with expiring tokens on', () => {
  it('answers expires_in and a port_ refresh token, stored only as its hash', async () => {
    const { appId, body } = await exchange();
    expect(body).toEqual({
      access_token: expect.stringMatching(/^poat_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      app_id: appId,
      scope: 'app:read conversations:read',
      expires_in: ACCESS,
      refresh_token: expect.stringMatching(/^port_[A-Za-z0-9_-]{43}$/),
    });
    const rows = await h.t.db.selectFrom('refresh_tokens').selectAll().where('app_id', '=', appId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toBe(sha256(body.refresh_token as string));
    expect(JSON.stringify(rows)).not.toContain(body.refresh_token);
    expect(rows[0]).toMatchObject({
      expires_at: new Date(clock.now() + IDLE * 1000),
      family_expires_at: new Date(clock.now() + 86_400_000),
    });
  });

  it('a client without the setting (shoplifter) keeps the spec response and may not use the grant', async () => {
    const res = await refresh('port_whatever', {}, { client_id: 'shoplifter', client_secret: 'secret' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unauthorized_client', error_description: 'the client is not allowed the refresh_token grant' });
  });
});

describe('grant_type=refresh_token', () => {
  it('rotates: a new access token and refresh token; the old refresh token is ended', async () => {
    const first = await exchange();
    clock.advance(60_000);
    const res = await refresh(first.refresh_token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toEqual({
      access_token: expect.stringMatching(/^poat_/),
      token_type: 'Bearer',
      app_id: first.appId,
      scope: 'app:read conversations:read',
      expires_in: ACCESS,
      refresh_token: expect.stringMatching(/^port_[A-Za-z0-9_-]{43}$/),
    });
    expect(body.refresh_token).not.toBe(first.refresh_token);
    expect(await introspect(body.access_token)).toMatchObject({ active: true, exp: Math.floor(clock.now() / 1000) + ACCESS });
    // The older access token keeps its own life: rotation ends the refresh token, not what it issued earlier.
    expect((await introspect(first.access_token)).active).toBe(true);
    const again = await refresh(body.refresh_token);
    expect(again.statusCode).toBe(200);
  });

  it('accepts client_secret_basic', async () => {
    const first = await exchange();
    const res = await postForm(
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { authorization: `Basic ${Buffer.from('rotating:rotating-secret').toString('base64')}` },
    );
    expect(res.statusCode).toBe(200);
  });

  it('scope narrows the new access token, never widens; a refused widening leaves the token usable', async () => {
    const first = await exchange();
    const wide = await refresh(first.refresh_token, { scope: 'app:read users:read' });
    expect(wide.statusCode).toBe(400);
    expect(wide.json()).toEqual({ error: 'invalid_scope', error_description: 'scope may only narrow the scope granted' });
    const narrow = await refresh(first.refresh_token, { scope: 'conversations:read' });
    expect(narrow.statusCode).toBe(200);
    expect(narrow.json().scope).toBe('conversations:read');
    expect(await introspect(narrow.json().access_token)).toMatchObject({ active: true, scope: 'conversations:read' });
    // The new refresh token keeps the full grant (RFC 6749 §6): the next refresh without scope gets it all.
    const next = await refresh(narrow.json().refresh_token);
    expect(next.json().scope).toBe('app:read conversations:read');
  });

  it('a rotated token presented again ends the whole family, notifies the partner and is audited', async () => {
    const first = await exchange();
    const rotated = (await refresh(first.refresh_token)).json();
    const replay = await refresh(first.refresh_token);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toEqual(INVALID_GRANT);
    for (const token of [first.access_token, rotated.access_token]) expect(await introspect(token)).toEqual({ active: false });
    expect((await refresh(rotated.refresh_token)).json()).toEqual(INVALID_GRANT);
    const notices = await h.t.db.selectFrom('webhook_deliveries').select(['reason', 'url']).where('app_id', '=', first.appId).execute();
    expect(notices).toEqual([{ reason: 'refresh_token_reused', url: 'https://rotating.example/removed' }]);
    const audit = await listAudit(h.t.db, { limit: 50 });
    expect(
      audit.find((a) => a.action === 'authorization.refresh_token_reused' && (a.after as { app_id?: string }).app_id === first.appId),
    ).toMatchObject({
      admin_key_name: 'token-service',
      target_type: 'authorization',
      request_id: expect.any(String),
    });
  });

  it('two simultaneous refreshes with one token: exactly one 200, the other 400 invalid_grant, and the family ends', async () => {
    for (let round = 0; round < 5; round++) {
      const first = await exchange();
      const results = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
      const loser = results.find((r) => r.statusCode === 400);
      expect(loser?.json()).toEqual(INVALID_GRANT);
      const winner = results.find((r) => r.statusCode === 200)?.json();
      // RFC 9700 §4.14.2 cannot tell a race from a theft: the winner's new tokens end with the family.
      expect(await introspect(winner.access_token)).toEqual({ active: false });
      expect((await refresh(winner.refresh_token)).json()).toEqual(INVALID_GRANT);
    }
    expect(await liveTokensUnderEndedAuthorizations(h.t.db)).toEqual([]);
  });

  it('bad, expired, revoked, foreign and malformed refresh tokens all get the same 400 invalid_grant', async () => {
    const expired = await exchange();
    const revoked = await exchange();
    const foreign = await exchange();
    await postForm('/oauth/revoke', { token: revoked.refresh_token, ...rotating });
    const answers = [
      await refresh('port_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      await refresh('not-a-token'),
      await refresh(`${foreign.refresh_token}x`),
      await refresh(foreign.access_token),
      await refresh(revoked.refresh_token),
      await refresh(foreign.refresh_token, {}, { client_id: 'rotating-2', client_secret: 'rotating-2-secret' }),
    ];
    clock.advance(IDLE * 1000);
    answers.push(await refresh(expired.refresh_token));
    for (const res of answers) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(INVALID_GRANT);
    }
    // The foreign client's attempt changed nothing for the rightful one (within its idle life from the clock's start).
    expect(answers.every((r) => !r.body.includes('port_'))).toBe(true);
  });

  it('missing refresh_token is invalid_request; an empty scope is treated as omitted', async () => {
    const res = await postForm('/oauth/token', { grant_type: 'refresh_token', ...rotating });
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'missing parameter refresh_token' });
    const first = await exchange();
    const empty = await refresh(first.refresh_token, { scope: '' });
    expect(empty.json().scope).toBe('app:read conversations:read');
  });
});

describe('an expiring access token at every resource', () => {
  it('introspection returns exp, then active:false; tokenInfo shows expires_at, then 401 invalid_token', async () => {
    const first = await exchange();
    const exp = Math.floor(clock.now() / 1000) + ACCESS;
    expect(await introspect(first.access_token)).toMatchObject({ active: true, exp });
    const info = await h.app.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${first.access_token}` } });
    expect(info.json().expires_at).toBe(new Date(clock.now() + ACCESS * 1000).toISOString());
    clock.advance(ACCESS * 1000);
    expect(await introspect(first.access_token)).toEqual({ active: false });
    for (const [method, url] of [
      ['GET', '/v2/tokenInfo'],
      ['DELETE', '/oauth/authorization'],
    ] as const) {
      const res = await h.app.inject({ method, url, headers: { authorization: `Bearer ${first.access_token}` } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="partner-oauth", error="invalid_token"/);
    }
    // The refresh token outlives the access token: the partner gets a new one.
    const renewed = await refresh(first.refresh_token);
    expect(renewed.statusCode).toBe(200);
  });

  it('a spec token (no expiry) has no exp and no expires_at', async () => {
    const code = await h.codes.issue({
      clientId: 'shoplifter',
      appId: h.t.ids.apps['Acme Sales'] as string,
      accountId: h.t.ids.accounts['ada@example.com'] as string,
      redirectUri: 'http://localhost:4000/callback',
      redirectUriSent: false,
      scope: 'app:read',
    });
    const body = (
      await postForm('/oauth/token', { grant_type: 'authorization_code', code, client_id: 'shoplifter', client_secret: 'secret' })
    ).json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'app_id', 'scope', 'token_type']);
    expect(await introspect(body.access_token)).not.toHaveProperty('exp');
    const info = await h.app.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${body.access_token}` } });
    expect(info.json()).not.toHaveProperty('expires_at');
  });
});

describe('RFC 7009 revocation of a refresh token', () => {
  it('ends its family: the access tokens stop working, the partner is notified', async () => {
    const first = await exchange();
    const res = await postForm('/oauth/revoke', { token: first.refresh_token, token_type_hint: 'refresh_token', ...rotating });
    expect(res.statusCode).toBe(200);
    expect(await introspect(first.access_token)).toEqual({ active: false });
    const notices = await h.t.db.selectFrom('webhook_deliveries').select('reason').where('app_id', '=', first.appId).execute();
    expect(notices).toEqual([{ reason: 'token_revoked' }]);
  });

  it('another client is told unauthorized_client and the token keeps working', async () => {
    const first = await exchange();
    const res = await postForm('/oauth/revoke', {
      token: first.refresh_token,
      client_id: 'rotating-2',
      client_secret: 'rotating-2-secret',
    });
    expect(res.json()).toEqual({ error: 'unauthorized_client', error_description: 'the token was not issued to this client' });
    expect((await refresh(first.refresh_token)).statusCode).toBe(200);
  });
});

describe('with the client’s credentials cached (issue 13)', () => {
  const second = { client_id: 'rotating-2', client_secret: 'rotating-2-secret' };
  it('a secret revoked after a cached match: invalid_client, and the refresh token is not spent', async () => {
    const grant: CodeGrant = {
      clientId: 'rotating-2',
      appId: h.t.ids.apps['Acme Sales'] as string,
      accountId: h.t.ids.accounts['ada@example.com'] as string,
      redirectUri: 'https://rotating-2.example/callback',
      redirectUriSent: false,
      scope: 'app:read',
    };
    const issued = await postForm('/oauth/token', { grant_type: 'authorization_code', code: await h.codes.issue(grant), ...second });
    expect(issued.statusCode).toBe(200);
    const { refresh_token } = issued.json() as { refresh_token: string };
    // The match is cached now; the secret is revoked behind the cache's back, a new one added.
    await h.t.db
      .updateTable('client_secrets')
      .set({ revoked_at: new Date(clock.now()) })
      .where('client_id', '=', 'rotating-2')
      .execute();
    await h.t.db
      .insertInto('client_secrets')
      .values({ id: 'rotating-2-new', client_id: 'rotating-2', secret_hash: sha256('rotating-2-new-secret') })
      .execute();
    const refused = await refresh(refresh_token, {}, second);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    const rotated = await refresh(refresh_token, {}, { client_id: 'rotating-2', client_secret: 'rotating-2-new-secret' });
    expect(rotated.statusCode).toBe(200);
  });
});
