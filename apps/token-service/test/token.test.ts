// The token endpoint through inject(), against real Postgres and Redis.
import { sha256 } from '@partner-oauth/service-kit';
import { addTestClient } from '@partner-oauth/storage/testing';
import { describe, expect, it } from 'vitest';
import { useApp } from './helpers.js';

const h = useApp({
  env: { CLIENT_AUTH_FAILURES_PER_MINUTE: '1000', INVALID_GRANTS_PER_MINUTE: '1000' },
  scope: 'app:read conversations:read',
});

const form = (fields: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) p.append(k, x);
  return p.toString();
};

function post(fields: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  return h.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: form(fields),
  });
}

const creds = { client_id: 'shoplifter', client_secret: 'secret' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('POST /oauth/token', () => {
  it('trades a code for an app-scoped Bearer token, stored only as its hash', async () => {
    const code = await h.codes.issue(h.grant);
    const res = await post({ code, grant_type: 'authorization_code', ...creds });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    const body = res.json();
    expect(body).toEqual({
      access_token: expect.stringMatching(/^poat_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      app_id: h.grant.appId,
      scope: 'app:read conversations:read',
    });
    const rows = await h.t.db.selectFrom('access_tokens').selectAll().where('code_hash', '=', sha256(code)).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toBe(sha256(body.access_token));
    const auth = await h.t.db
      .selectFrom('authorizations')
      .selectAll()
      .where('id', '=', rows[0]?.authorization_id as string)
      .executeTakeFirst();
    expect(auth).toMatchObject({ client_id: 'shoplifter', app_id: h.grant.appId, granted_by: h.grant.accountId, revoked_at: null });
  });

  it('accepts client_secret_basic', async () => {
    const code = await h.codes.issue(h.grant);
    const res = await post({ code, grant_type: 'authorization_code' }, { authorization: basic('shoplifter', 'secret') });
    expect(res.statusCode).toBe(200);
    expect(res.json().app_id).toBe(h.grant.appId);
  });

  it('a code is good once: the second use is invalid_grant', async () => {
    const code = await h.codes.issue(h.grant);
    expect((await post({ code, grant_type: 'authorization_code', ...creds })).statusCode).toBe(200);
    const again = await post({ code, grant_type: 'authorization_code', ...creds });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
  });

  it('of 20 concurrent redemptions of one code at most one gets a token, and none survives the replay', async () => {
    const code = await h.codes.issue(h.grant);
    const results = await Promise.all(Array.from({ length: 20 }, () => post({ code, grant_type: 'authorization_code', ...creds })));
    const ok = results.filter((r) => r.statusCode === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.statusCode === 400 && r.json().error === 'invalid_grant')).toHaveLength(20 - ok.length);
    // The winner's token was revoked by a replay that waited for its commit, or a replay marked the code first and the
    // winner wrote nothing (migration 0011): either way no token from the code is live.
    const rows = await h.t.db.selectFrom('access_tokens').select(['revoked_at']).where('code_hash', '=', sha256(code)).execute();
    expect(rows.length).toBeLessThanOrEqual(1);
    expect(rows.filter((r) => r.revoked_at === null)).toEqual([]);
  });

  it('refuses an unknown code and another client’s code', async () => {
    expect((await post({ code: 'nope', grant_type: 'authorization_code', ...creds })).json().error).toBe('invalid_grant');
    await addTestClient(h.t.db, 'other', { client_name: 'Other', redirect_uris: ['https://o.example/cb'], secret: 'other-secret' });
    const code = await h.codes.issue(h.grant);
    const res = await post({ code, grant_type: 'authorization_code', client_id: 'other', client_secret: 'other-secret' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_grant');
  });

  it('wrong secret: 401 invalid_client, the code not consumed', async () => {
    const code = await h.codes.issue(h.grant);
    const res = await post({ code, grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'wrong' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect((await post({ code, grant_type: 'authorization_code', ...creds })).statusCode).toBe(200);
  });

  it('failed Basic auth answers 401 with a Basic challenge', async () => {
    const res = await post({ code: 'x', grant_type: 'authorization_code' }, { authorization: basic('shoplifter', 'wrong') });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="oauth", charset="UTF-8"');
    const malformed = await post({ code: 'x', grant_type: 'authorization_code' }, { authorization: 'Basic !!!' });
    expect(malformed.statusCode).toBe(401);
    expect(malformed.json().error).toBe('invalid_client');
  });

  it('unknown client and missing credentials: invalid_client', async () => {
    const unknown = await post({ code: 'x', grant_type: 'authorization_code', client_id: 'ghost', client_secret: 'secret' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error).toBe('invalid_client');
    const missing = await post({ code: 'x', grant_type: 'authorization_code' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error).toBe('invalid_client');
  });

  it('both authentication methods at once: invalid_request', async () => {
    const res = await post({ code: 'x', grant_type: 'authorization_code', ...creds }, { authorization: basic('shoplifter', 'secret') });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('grant_type: missing is invalid_request, another is unsupported_grant_type', async () => {
    const missing = await post({ code: 'x', ...creds });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ error: 'invalid_request', error_description: 'missing parameter grant_type' });
    const other = await post({ grant_type: 'password', ...creds });
    expect(other.statusCode).toBe(400);
    expect(other.json().error).toBe('unsupported_grant_type');
    const proto = await post({ grant_type: '__proto__', ...creds });
    expect(proto.json().error).toBe('unsupported_grant_type');
  });

  it('a missing code is invalid_request', async () => {
    const res = await post({ grant_type: 'authorization_code', ...creds });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'missing parameter code' });
  });

  it('a repeated parameter is invalid_request', async () => {
    const code = await h.codes.issue(h.grant);
    const res = await post({ code: [code, code], grant_type: 'authorization_code', ...creds });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'parameter code is repeated' });
  });

  it('redirect_uri sent at authorize must be repeated identically', async () => {
    const sent = { ...h.grant, redirectUriSent: true };
    const missing = await post({ code: await h.codes.issue(sent), grant_type: 'authorization_code', ...creds });
    expect(missing.json().error).toBe('invalid_grant');
    const other = await post({
      code: await h.codes.issue(sent),
      grant_type: 'authorization_code',
      redirect_uri: 'http://localhost:4000/callback/',
      ...creds,
    });
    expect(other.json().error).toBe('invalid_grant');
    const same = await post({
      code: await h.codes.issue(sent),
      grant_type: 'authorization_code',
      redirect_uri: 'http://localhost:4000/callback',
      ...creds,
    });
    expect(same.statusCode).toBe(200);
  });

  it('JSON or other bodies are invalid_request, not 5xx', async () => {
    const json = await h.app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'authorization_code' } });
    expect(json.statusCode).toBe(400);
    expect(json.json().error).toBe('invalid_request');
    const text = await h.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    expect(text.statusCode).toBe(400);
    expect(text.json().error).toBe('invalid_request');
    expect(text.headers['cache-control']).toBe('no-store');
  });

  it('GET on the token endpoint is not found, as JSON', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/oauth/token' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
  });
});
