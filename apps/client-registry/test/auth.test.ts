// Admin API keys guard every /v1 route: unknown and revoked keys are refused, last use is recorded; health stays public.
import { sha256 } from '@partner-oauth/service-kit';
import { createAdminKey, DEV_ADMIN_KEY, revokeAdminKey } from '@partner-oauth/storage';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, useApp } from './helpers.js';

const h = useApp();

describe('admin authentication', () => {
  it('refuses a request without Authorization with 401 and WWW-Authenticate: Bearer', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/clients' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({ error: 'unauthorized', message: 'missing bearer token' });
  });

  it.each([
    ['a wrong token', `Bearer ${ADMIN_TOKEN.slice(0, -1)}x`],
    ['a prefix of the token', `Bearer ${ADMIN_TOKEN.slice(0, 10)}`],
    ['the token with a suffix', `Bearer ${ADMIN_TOKEN}x`],
    ['another scheme', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`],
    ['the bare token', ADMIN_TOKEN],
    ['an empty bearer', 'Bearer '],
    ['the old development token', 'Bearer dev-admin-token-change-me-0000000000'],
    ['the development admin key, which only the embedded start seeds', `Bearer ${DEV_ADMIN_KEY}`],
  ])('refuses %s', async (_name, authorization) => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toEqual({ error: 'unauthorized', message: 'invalid bearer token' });
  });

  it('refuses a key once it is revoked, and keeps accepting the others', async () => {
    const other = 'poak_second-key-for-revocation-0123456789abcdefgh';
    await createAdminKey(h.t.db, { name: 'to-revoke', keyHash: sha256(other) });
    const before = await h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization: `Bearer ${other}` } });
    expect(before.statusCode).toBe(200);
    expect((await revokeAdminKey(h.t.db, 'to-revoke')).map((k) => k.name)).toEqual(['to-revoke']);
    const after = await h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization: `Bearer ${other}` } });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toEqual({ error: 'unauthorized', message: 'invalid bearer token' });
    expect((await h.call({ method: 'GET', url: '/v1/clients' })).statusCode).toBe(200);
  });

  it('records when a key was last used, at most once a minute', async () => {
    const key = 'poak_key-for-last-used-0123456789abcdefghijklmnopq';
    const row = await createAdminKey(h.t.db, { name: 'last-used', keyHash: sha256(key) });
    const lastUsed = async () =>
      (await h.t.db.selectFrom('admin_keys').select('last_used_at').where('id', '=', row.id).executeTakeFirstOrThrow()).last_used_at;
    expect(await lastUsed()).toBeNull();
    await h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization: `Bearer ${key}` } });
    // The write is off the request's path; poll briefly for it.
    let first: Date | null = null;
    for (let i = 0; i < 50 && first === null; i++) {
      first = await lastUsed();
      if (first === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(first).toBeInstanceOf(Date);
    await h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization: `Bearer ${key}` } });
    await new Promise((r) => setTimeout(r, 100));
    expect(await lastUsed()).toEqual(first);
  });

  it('accepts the admin key, with the scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } });
      expect(res.statusCode).toBe(200);
    }
  });

  it('authenticates before validating, so an anonymous caller learns nothing about the schema', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/clients', payload: { nonsense: true } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized', message: 'missing bearer token' });
  });

  it.each([
    ['GET', '/v1/clients/shoplifter'],
    ['PATCH', '/v1/clients/shoplifter'],
    ['DELETE', '/v1/clients/shoplifter'],
    ['POST', '/v1/clients'],
    ['GET', '/v1/clients/shoplifter/secrets'],
    ['POST', '/v1/clients/shoplifter/secrets'],
    ['POST', '/v1/clients/shoplifter/webhook-secret'],
    ['GET', '/v1/clients/shoplifter/authorizations'],
    ['GET', '/v1/clients/shoplifter/button'],
    ['GET', '/v1/audit-log'],
  ] as const)('guards %s %s', async (method, url) => {
    const res = await h.app.inject({ method, url, payload: method === 'GET' ? undefined : { client_name: 'x' } });
    expect(res.statusCode).toBe(401);
  });

  it('serves /health/live without credentials', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers an unknown route with 404 in the admin error shape', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v2/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'route not found' });
  });
});
