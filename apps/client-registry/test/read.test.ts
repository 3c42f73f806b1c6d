// GET /v1/clients and /v1/clients/:client_id: reads, pagination, and no secret in sight.
import { beforeAll, describe, expect, it } from 'vitest';
import { ISO_DATE, useApp, validClient } from './helpers.js';

const h = useApp();

const CLIENT_FIELDS = [
  'access_token_lifetime',
  'client_id',
  'client_name',
  'client_uri',
  'created_at',
  'default_scope',
  'description',
  'expiring_tokens',
  'logo_uri',
  'policy_uri',
  'redirect_uris',
  'refresh_token_absolute_lifetime',
  'refresh_token_idle_lifetime',
  'remove_url',
  'require_pkce',
  'scope',
  'status',
  'tos_uri',
  'updated_at',
];

describe('GET /v1/clients/:client_id', () => {
  it('returns the seeded client without any secret', async () => {
    const res = await h.call({ method: 'GET', url: '/v1/clients/shoplifter' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      client_id: 'shoplifter',
      client_name: 'Shoplifter',
      description: 'A partnership built for testing: lists your store’s orders in your conversations.',
      client_uri: 'http://localhost:4000',
      logo_uri: null,
      redirect_uris: ['http://localhost:4000/callback'],
      status: 'active',
      scope: 'app:read conversations:read conversations:write users:read webhooks:manage',
      default_scope: 'app:read conversations:read conversations:write',
      require_pkce: false,
      remove_url: 'http://localhost:4000/removed',
      policy_uri: 'http://localhost:4000/privacy',
      tos_uri: 'http://localhost:4000/terms',
      expiring_tokens: false,
      access_token_lifetime: 43_200,
      refresh_token_idle_lifetime: 2_592_000,
      refresh_token_absolute_lifetime: 15_552_000,
      created_at: expect.stringMatching(ISO_DATE),
      updated_at: expect.stringMatching(ISO_DATE),
    });
  });

  it('answers 404 for an unknown client', async () => {
    const res = await h.call({ method: 'GET', url: '/v1/clients/nobody-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });

  it('refuses a client_id longer than 128 characters', async () => {
    const res = await h.call({ method: 'GET', url: `/v1/clients/${'a'.repeat(129)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'client_id: must not have more than 128 characters',
      details: [{ field: 'client_id', message: 'must not have more than 128 characters' }],
    });
  });
});

describe('GET /v1/clients', () => {
  const created: string[] = [];
  beforeAll(async () => {
    // Four, beside the two seeded partners (shoplifter and shoplifter-rotating): six in all.
    for (let i = 0; i < 4; i++) {
      const res = await h.call({ method: 'POST', url: '/v1/clients', payload: { ...validClient, client_name: `Partner ${i}` } });
      created.push(res.json().client_id);
    }
  });

  it('lists every client in creation order, without secrets', async () => {
    const res = await h.call({ method: 'GET', url: '/v1/clients' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.next_cursor).toBeNull();
    expect(body.items.map((c: { client_id: string }) => c.client_id)).toEqual(['shoplifter', 'shoplifter-rotating', ...created]);
    expect(res.body).not.toContain('secret');
    for (const item of body.items) expect(Object.keys(item).sort()).toEqual(CLIENT_FIELDS);
  });

  it('pages through with opaque cursors, each client exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = cursor === null ? '/v1/clients?limit=2' : `/v1/clients?limit=2&cursor=${cursor}`;
      const res = await h.call({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((c: { client_id: string }) => c.client_id));
      cursor = body.next_cursor;
      if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(['shoplifter', 'shoplifter-rotating', ...created]);
    expect(pages).toBe(3);
  });

  it('gives no next cursor when the last page is exactly full', async () => {
    const first = (await h.call({ method: 'GET', url: '/v1/clients?limit=3' })).json();
    expect(first.items).toHaveLength(3);
    const second = (await h.call({ method: 'GET', url: `/v1/clients?limit=3&cursor=${first.next_cursor}` })).json();
    expect(second.items).toHaveLength(3);
    expect(second.next_cursor).toBeNull();
  });

  it.each([
    ['limit=0', 'limit: must be >= 1'],
    ['limit=101', 'limit: must be <= 100'],
    ['limit=abc', 'limit: must be integer'],
    ['limit=1.5', 'limit: must be integer'],
    ['limit=0x10', 'limit: must be integer'],
    ['limit=', 'limit: must be integer'],
    ['limit=true', 'limit: must be integer'],
    ['limit=1e2', 'limit: must be integer'],
    ['sort=name', 'sort: is not a known field'],
  ])('refuses %s', async (query, message) => {
    const res = await h.call({ method: 'GET', url: `/v1/clients?${query}` });
    expect(res.statusCode).toBe(400);
    const [field, problem] = message.split(': ') as [string, string];
    expect(res.json()).toEqual({ error: 'invalid_request', message, details: [{ field, message: problem }] });
  });

  it.each([
    ['not base64url', '!!!!'],
    ['padding', `${Buffer.from('shoplifter').toString('base64url')}=`],
    ['non-canonical base64url', 'c2hvcGxpZnRlcj'],
    ['binary garbage', Buffer.from([0xff, 0x00, 0xfe]).toString('base64url')],
    ['an unknown client', Buffer.from('no-such-client').toString('base64url')],
  ])('refuses a cursor that is %s', async (_name, cursor) => {
    const res = await h.call({ method: 'GET', url: `/v1/clients?cursor=${encodeURIComponent(cursor)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'cursor: is not a cursor returned by this API' });
  });

  it('refuses a huge cursor', async () => {
    const res = await h.call({ method: 'GET', url: `/v1/clients?cursor=${'A'.repeat(5000)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'cursor: must not have more than 200 characters',
      details: [{ field: 'cursor', message: 'must not have more than 200 characters' }],
    });
  });
});
