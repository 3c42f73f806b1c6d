// Admin keys that are not all-powerful: read-only keys (GET only, 403 on every change), chosen at creation through the
// API or the CLI, and an audit log naming the key that acted.
import { runCli } from '@partner-oauth/client-registry';
import { TEST_PASSWORD_PARAMS } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type Product, startProduct } from './support/product.js';

let p: Product;

beforeAll(async () => {
  p = await startProduct();
});
afterAll(async () => p.close());

const call = (key: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  p.registry.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${key}`,
      'if-match': '*',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

const countClients = async () =>
  Number(
    (
      await p.t.db
        .selectFrom('clients')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('read-only admin keys', () => {
  it('read-only key via the API: reads answer 200, every change 403 forbidden and nothing changes', async () => {
    const created = await call(ADMIN_TOKEN, 'POST', '/v1/admin-keys', { name: 'auditor', access: 'read' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const readKey = created.json().admin_key as string;
    expect(created.json()).toMatchObject({ name: 'auditor', access: 'read', revoked_at: null });

    for (const url of ['/v1/clients', '/v1/clients/shoplifter', '/v1/clients/shoplifter/secrets', '/v1/audit-log', '/v1/admin-keys']) {
      expect([url, (await call(readKey, 'GET', url)).statusCode]).toEqual([url, 200]);
    }
    const before = await countClients();
    const writes: [string, 'POST' | 'PATCH' | 'DELETE', string, unknown?][] = [
      ['create a client', 'POST', '/v1/clients', { client_name: 'X', redirect_uris: ['https://x.example/cb'] }],
      ['disable a client', 'PATCH', '/v1/clients/shoplifter', { status: 'disabled' }],
      ['rotate a secret', 'POST', '/v1/clients/shoplifter/secrets', {}],
      ['delete a client', 'DELETE', '/v1/clients/shoplifter'],
      ['end an authorization', 'DELETE', '/v1/clients/shoplifter/authorizations/00000000-0000-4000-8000-000000000000'],
      ['make itself a full key', 'POST', '/v1/admin-keys', { name: 'escalated', access: 'full' }],
    ];
    for (const [what, method, url, body] of writes) {
      const res = await call(readKey, method, url, body);
      expect([what, res.statusCode]).toEqual([what, 403]);
      expect(res.json()).toEqual({ error: 'forbidden', message: `admin key "auditor" is read-only: ${method} is not allowed` });
    }
    expect(await countClients()).toBe(before);
    const shoplifter = await p.t.db.selectFrom('clients').select('status').where('client_id', '=', 'shoplifter').executeTakeFirstOrThrow();
    expect(shoplifter.status).toBe('active');
    const keys = await p.t.db.selectFrom('admin_keys').select('name').where('name', '=', 'escalated').execute();
    expect(keys).toEqual([]);
  });

  it('read-only key via the CLI: --read-only keys are refused every change with 403', async () => {
    const out: string[] = [];
    const code = await runCli(p.t.db, ['admin-keys', 'create', '--name', 'dashboard', '--read-only'], {
      out: (l) => out.push(l),
      err: () => {},
      passwordParams: TEST_PASSWORD_PARAMS,
    });
    expect(code).toBe(0);
    const key = out[1] as string;
    expect((await call(key, 'GET', '/v1/clients')).statusCode).toBe(200);
    const res = await call(key, 'POST', '/v1/clients', { client_name: 'Y', redirect_uris: ['https://y.example/cb'] });
    expect(res.statusCode).toBe(403);
  });

  it('audit: a change names the key that made it, and the key list never shows a key value', async () => {
    const ops = await call(ADMIN_TOKEN, 'POST', '/v1/admin-keys', { name: 'ops-alice' });
    expect(ops.json()).toMatchObject({ access: 'full' });
    const opsKey = ops.json().admin_key as string;
    const created = await call(opsKey, 'POST', '/v1/clients', { client_name: 'Audited', redirect_uris: ['https://audited.example/cb'] });
    expect(created.statusCode).toBe(201);
    const log = await call(ADMIN_TOKEN, 'GET', `/v1/audit-log?target_type=client&target_id=${created.json().client_id}`);
    expect(log.json().items).toEqual([
      expect.objectContaining({ action: 'client.create', admin_key_id: ops.json().id, admin_key_name: 'ops-alice' }),
    ]);
    const keyLog = await call(ADMIN_TOKEN, 'GET', `/v1/audit-log?target_type=admin_key&target_id=${ops.json().id}`);
    expect(keyLog.json().items).toEqual([expect.objectContaining({ action: 'admin_key.create', admin_key_name: 'security-suite' })]);
    const list = await call(ADMIN_TOKEN, 'GET', '/v1/admin-keys');
    expect(list.body).not.toContain(opsKey);
    expect(list.body).not.toMatch(/key_hash|poak_/);
    // Revoked through the API, the key stops working at once.
    expect((await call(ADMIN_TOKEN, 'DELETE', `/v1/admin-keys/${ops.json().id}`)).statusCode).toBe(200);
    expect((await call(opsKey, 'GET', '/v1/clients')).statusCode).toBe(401);
  });
});
