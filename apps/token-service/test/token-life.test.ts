// PKCE, replay, revocation, introspection, token info, partner revoke and metadata, through inject() on real stores.
import { createHash } from 'node:crypto';
import { type CodeGrant } from '@partner-oauth/ephemeral-store';
import { addTestClient } from '@partner-oauth/storage/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { basic, useApp } from './helpers.js';

const ISSUER = 'https://auth.example';
const h = useApp({ env: { ISSUER, TOKEN_SERVICE_PUBLIC_URL: 'https://api.example' } });
beforeAll(async () => {
  await addTestClient(h.t.db, 'other', { client_name: 'Other', redirect_uris: ['https://o.example/cb'], secret: 'other-secret' });
});

const _form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const postForm: typeof h.postForm = (...args) => h.postForm(...args);
const shoplifter = { client_id: 'shoplifter', client_secret: 'secret' };
const rsBasic = (id = 'platform-api', secret = 'platform-api-secret') => basic(id, secret);

async function tokenFor(g: Partial<CodeGrant> = {}, extra: Record<string, string> = {}): Promise<string> {
  const code = await h.codes.issue({ ...h.grant, ...g });
  const res = await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter, ...extra });
  expect(res.statusCode).toBe(200);
  return res.json().access_token;
}

const introspect = async (token: string) => (await postForm('/oauth/introspect', { token }, rsBasic())).json();
const tokenInfo = (token: string) => h.app.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${token}` } });

describe('PKCE at the token endpoint (RFC 7636 §4.6)', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  it('the right verifier gets the token', async () => {
    await tokenFor({ codeChallenge: challenge }, { code_verifier: verifier });
  });

  it('a wrong or missing verifier is invalid_grant', async () => {
    for (const extra of [{ code_verifier: `${verifier.slice(0, -1)}A` }, {}, { code_verifier: 'short' }] as Record<string, string>[]) {
      const code = await h.codes.issue({ ...h.grant, codeChallenge: challenge });
      const res = await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter, ...extra });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_grant');
    }
  });

  it('a verifier for a code issued without a challenge is refused (downgrade)', async () => {
    const code = await h.codes.issue(h.grant);
    const res = await postForm('/oauth/token', { grant_type: 'authorization_code', code, code_verifier: verifier, ...shoplifter });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier sent for a code issued without code_challenge',
    });
  });
});

describe('a code used twice', () => {
  it('is invalid_grant, and the token from its first use stops working', async () => {
    const code = await h.codes.issue(h.grant);
    const first = await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter });
    const token = first.json().access_token;
    expect((await tokenInfo(token)).statusCode).toBe(200);
    const second = await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter });
    expect(second.json().error).toBe('invalid_grant');
    expect((await tokenInfo(token)).statusCode).toBe(401);
    expect(await introspect(token)).toEqual({ active: false });
  });
});

describe('GET /v2/tokenInfo', () => {
  it('tells the partner its app, client and scope', async () => {
    const token = await tokenFor();
    const res = await tokenInfo(token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      app: { id: h.grant.appId, name: 'Acme Sales' },
      client: { id: 'shoplifter', name: 'Shoplifter' },
      scope: 'app:read',
      token_type: 'Bearer',
      created_at: expect.any(String),
    });
  });

  it('answers RFC 6750 errors', async () => {
    const none = await h.app.inject('/v2/tokenInfo');
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="partner-oauth"');
    const unknown = await tokenInfo('poat_unknown');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.headers['www-authenticate']).toBe(
      'Bearer realm="partner-oauth", error="invalid_token", error_description="the access token is invalid, expired or revoked"',
    );
    expect(unknown.json()).toEqual({ error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' });
    const basic = await h.app.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: 'Basic abc' } });
    expect(basic.statusCode).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Bearer realm="partner-oauth"');
    const malformed = await h.app.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: 'Bearer a b' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toBe('invalid_request');
    expect(malformed.headers['www-authenticate']).toBe(
      'Bearer realm="partner-oauth", error="invalid_request", error_description="malformed Authorization header"',
    );
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  it('revokes the client’s own token; the answer is 200 {}', async () => {
    const token = await tokenFor();
    const res = await postForm('/oauth/revoke', { token, token_type_hint: 'access_token', ...shoplifter });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await tokenInfo(token)).statusCode).toBe(401);
  });

  it('unknown tokens answer 200 too', async () => {
    const res = await postForm('/oauth/revoke', { token: 'poat_never_issued', ...shoplifter });
    expect(res.statusCode).toBe(200);
  });

  it('another client’s token is not revoked, and the caller is told with unauthorized_client (RFC 7009 §2.1)', async () => {
    const token = await tokenFor();
    const res = await postForm('/oauth/revoke', { token, client_id: 'other', client_secret: 'other-secret' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unauthorized_client', error_description: 'the token was not issued to this client' });
    expect((await tokenInfo(token)).statusCode).toBe(200);
  });

  it('needs client authentication and a token', async () => {
    const noAuth = await postForm('/oauth/revoke', { token: 'x' });
    expect(noAuth.statusCode).toBe(401);
    expect(noAuth.json().error).toBe('invalid_client');
    const noToken = await postForm('/oauth/revoke', { ...shoplifter });
    expect(noToken.statusCode).toBe(400);
    expect(noToken.json()).toEqual({ error: 'invalid_request', error_description: 'missing parameter token' });
  });
});

describe('POST /oauth/introspect (RFC 7662)', () => {
  it('describes an active token to a resource server', async () => {
    const token = await tokenFor();
    const res = await postForm('/oauth/introspect', { token }, rsBasic());
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toEqual({
      active: true,
      client_id: 'shoplifter',
      app_id: h.grant.appId,
      scope: 'app:read',
      sub: h.grant.accountId,
      iat: expect.any(Number),
      token_type: 'Bearer',
      iss: ISSUER,
    });
    expect(Math.abs(body.iat - Date.now() / 1000)).toBeLessThan(60);
  });

  it('answers only {active:false} for anything not valid', async () => {
    expect(await introspect('poat_nope')).toEqual({ active: false });
    expect(await introspect('')).toEqual({ error: 'invalid_request', error_description: 'missing parameter token' });
  });

  it('refuses callers without the resource-server credential', async () => {
    const token = await tokenFor();
    for (const headers of [{}, rsBasic('platform-api', 'wrong'), rsBasic('shoplifter', 'secret')]) {
      const res = await postForm('/oauth/introspect', { token }, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_client');
    }
    const post = await postForm('/oauth/introspect', { token, client_id: 'platform-api', client_secret: 'platform-api-secret' });
    expect(post.statusCode).toBe(401);
  });

  it('a missing token parameter is invalid_request', async () => {
    const res = await postForm('/oauth/introspect', {}, rsBasic());
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });
});

describe('DELETE /oauth/authorization (the spec’s Revoke Access)', () => {
  it('ends every token the partner holds for that app, from every consent, at once', async () => {
    const app2 = h.t.ids.apps['Acme Support'] as string;
    const a = await tokenFor({ appId: app2 });
    const b = await tokenFor({ appId: app2 });
    const elsewhere = await tokenFor();
    const res = await h.app.inject({ method: 'DELETE', url: '/oauth/authorization', headers: { authorization: `Bearer ${a}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    for (const token of [a, b]) {
      expect((await tokenInfo(token)).statusCode).toBe(401);
      expect(await introspect(token)).toEqual({ active: false });
    }
    expect((await tokenInfo(elsewhere)).statusCode).toBe(200);
    const again = await h.app.inject({ method: 'DELETE', url: '/oauth/authorization', headers: { authorization: `Bearer ${a}` } });
    expect(again.statusCode).toBe(401);
    const outbox = await h.t.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('app_id', '=', app2)
      .where('reason', '=', 'partner_revoked')
      .execute();
    expect(outbox).toHaveLength(1);
  });

  it('tokens of a disabled client stop working', async () => {
    const token = await tokenFor();
    await h.t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', 'shoplifter').execute();
    try {
      expect((await tokenInfo(token)).statusCode).toBe(401);
      expect(await introspect(token)).toEqual({ active: false });
      const code = await h.codes.issue(h.grant);
      const res = await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter });
      expect(res.statusCode).toBe(401);
    } finally {
      await h.t.db.updateTable('clients').set({ status: 'active' }).where('client_id', '=', 'shoplifter').execute();
    }
  });
});

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  it('is built from configuration, whatever the Host header says', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/oauth/authorize`,
      token_endpoint: 'https://api.example/oauth/token',
      revocation_endpoint: 'https://api.example/oauth/revoke',
      introspection_endpoint: 'https://api.example/oauth/introspect',
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['app:read', 'conversations:read', 'conversations:write', 'users:read', 'webhooks:manage'],
      authorization_response_iss_parameter_supported: true,
    });
  });
});
