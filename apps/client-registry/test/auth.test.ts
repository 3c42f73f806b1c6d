// The admin token guards every /v1 route; health stays public.
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
    ['the development token', 'Bearer dev-admin-token-change-me-0000000000'],
  ])('refuses %s', async (_name, authorization) => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toEqual({ error: 'unauthorized', message: 'invalid bearer token' });
  });

  it('accepts the admin token, with the scheme in any case', async () => {
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
    ['POST', '/v1/clients'],
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
