// Garbage in gets a 4xx in the admin error shape, never a 500 and never an echo of the input.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadClientRegistryConfig } from '../src/config.js';
import { ADMIN_TOKEN, AUTH, useApp } from './helpers.js';

const h = useApp();

describe('malformed requests', () => {
  it('refuses a body that is not JSON', async () => {
    const res = await h.call({
      method: 'POST',
      url: '/v1/clients',
      headers: { 'content-type': 'application/json' },
      payload: '{"client_name": <script>',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'body: is not valid JSON' });
    expect(res.body).not.toContain('script');
  });

  it('refuses an empty JSON body', async () => {
    const res = await h.call({ method: 'POST', url: '/v1/clients', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'body: must not be empty when content-type is application/json' });
  });

  it('refuses a JSON value that is not an object', async () => {
    for (const payload of ['null', '[]', '"text"', '42']) {
      const res = await h.call({ method: 'POST', url: '/v1/clients', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_request');
    }
  });

  it('refuses a body that is not JSON by content type with 415', async () => {
    const res = await h.call({ method: 'POST', url: '/v1/clients', headers: { 'content-type': 'text/plain' }, payload: 'client_name=x' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'content-type: must be application/json' });
    const form = await h.call({
      method: 'POST',
      url: '/v1/clients',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'client_name=x',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json()).toEqual({ error: 'invalid_request', message: 'content-type: must be application/json' });
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await h.call({
      method: 'POST',
      url: '/v1/clients',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ client_name: 'x'.repeat(70_000) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'body: is too large' });
  });

  it('refuses a prototype-polluting body', async () => {
    const res = await h.call({
      method: 'POST',
      url: '/v1/clients',
      headers: { 'content-type': 'application/json' },
      payload: '{"client_name":"x","redirect_uris":["https://a.example/cb"],"__proto__":{"admin":true}}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('refuses a repeated cursor parameter', async () => {
    const res = await h.call({ method: 'GET', url: '/v1/clients?cursor=a&cursor=b' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });
});

describe('unexpected failures', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // A database that fails every query: the reply must not leak what went wrong.
    const brokenDb = new Proxy(
      {},
      {
        get() {
          throw new Error('connection to 10.0.0.5:5432 refused: password authentication failed for user "registry"');
        },
      },
    );
    const config = loadClientRegistryConfig({ NODE_ENV: 'test', ADMIN_TOKEN });
    app = await buildApp({ config, db: brokenDb as never, logger: false });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 500 with a generic body, never the error message', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/clients/shoplifter', headers: AUTH });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'server_error', message: 'internal error' });
    expect(res.body).not.toContain('password');
  });
});
