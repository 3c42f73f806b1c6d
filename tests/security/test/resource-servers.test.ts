// Resource-server credentials (RFC 7662 §2.1: introspection callers authenticate) made without SQL: created and rotated
// through the admin API or the CLI, the secret shown once and stored as SHA-256, rotation with overlap, revocation, audit.
import { runCli } from '@partner-oauth/client-registry';
import { sha256 } from '@partner-oauth/service-kit';
import { TEST_PASSWORD_PARAMS } from '@partner-oauth/storage/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, basic, issueCode, type Product, postForm, redeem, registryPost, signedIn, startProduct } from './support/product.js';

let p: Product;
let token: string;

beforeAll(async () => {
  p = await startProduct();
  token = (await redeem(p.tokens, await issueCode(await signedIn(p.ui)))).json().access_token as string;
});
afterAll(async () => p.close());

/** Introspects through a token-service started now, so no credential cached by an earlier call answers. */
async function introspectAs(id: string, secret: string, tokens?: FastifyInstance): Promise<number> {
  const service = tokens ?? (await p.extraTokens({}));
  const res = await postForm(service, '/oauth/introspect', { token }, { authorization: basic(id, secret) });
  if (res.statusCode === 200) expect(res.json()).toMatchObject({ active: true, client_id: 'shoplifter' });
  return res.statusCode;
}

const admin = (method: 'GET' | 'DELETE', url: string) =>
  p.registry.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

describe('resource-server credentials', () => {
  it('resource server via the API: created with its secret shown once, stored as SHA-256 only, usable for introspection', async () => {
    const created = await registryPost(p.registry, '/v1/resource-servers', { id: 'billing-api', name: 'Billing API' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { secret, ...view } = created.json();
    expect(secret).toMatch(/^pors_[A-Za-z0-9_-]{43}$/);
    expect(view).toEqual({
      id: 'billing-api',
      name: 'Billing API',
      created_at: expect.any(String),
      previous_secret_expires_at: null,
      revoked_at: null,
    });
    const row = await p.t.db.selectFrom('resource_servers').selectAll().where('id', '=', 'billing-api').executeTakeFirstOrThrow();
    expect(row.secret_hash).toBe(sha256(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    const list = await admin('GET', '/v1/resource-servers');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(secret);
    expect(list.body).not.toContain(sha256(secret));
    expect(await introspectAs('billing-api', secret)).toBe(200);
    // An id is taken once.
    expect((await registryPost(p.registry, '/v1/resource-servers', { id: 'billing-api', name: 'Again' })).statusCode).toBe(409);
  });

  it('resource servers and admin keys are in the OpenAPI document, their secrets only in the create/rotate answers', async () => {
    const doc = (await p.registry.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/resource-servers',
        '/v1/resource-servers/{id}/secret',
        '/v1/resource-servers/{id}',
        '/v1/admin-keys',
        '/v1/admin-keys/{key_id}',
      ]),
    );
    const listed = doc.paths['/v1/resource-servers'].get.responses['200'];
    expect(JSON.stringify(listed)).not.toContain('"secret"');
    expect(JSON.stringify(doc.paths['/v1/resource-servers/{id}/secret'].post.responses['201'])).toContain('"secret"');
  });

  it('resource server rotation: with an overlap both secrets work; without one the old stops at once; revoked, none works', async () => {
    const created = await registryPost(p.registry, '/v1/resource-servers', { id: 'search-api', name: 'Search API' });
    const first = created.json().secret as string;
    const overlapped = await registryPost(p.registry, '/v1/resource-servers/search-api/secret', { old_secret_expires_in: 3600 });
    expect(overlapped.statusCode).toBe(201);
    const second = overlapped.json().secret as string;
    expect(overlapped.json().previous_secret_expires_at).toEqual(expect.any(String));
    expect(await introspectAs('search-api', first)).toBe(200);
    expect(await introspectAs('search-api', second)).toBe(200);

    const hard = await registryPost(p.registry, '/v1/resource-servers/search-api/secret', { old_secret_expires_in: 0 });
    const third = hard.json().secret as string;
    expect(await introspectAs('search-api', second)).toBe(401);
    expect(await introspectAs('search-api', first)).toBe(401);
    expect(await introspectAs('search-api', third)).toBe(200);

    const revoked = await admin('DELETE', '/v1/resource-servers/search-api');
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).toEqual(expect.any(String));
    expect(await introspectAs('search-api', third)).toBe(401);

    const log = await admin('GET', '/v1/audit-log?target_type=resource_server&target_id=search-api');
    expect(log.json().items.map((e: { action: string; admin_key_name: string }) => [e.action, e.admin_key_name])).toEqual([
      ['resource_server.revoke', 'security-suite'],
      ['resource_server.rotate', 'security-suite'],
      ['resource_server.rotate', 'security-suite'],
      ['resource_server.create', 'security-suite'],
    ]);
    expect(log.body).not.toMatch(/pors_/);
  });

  it('resource server via the CLI: create prints the secret once, and it introspects', async () => {
    const out: string[] = [];
    const run = (...argv: string[]) =>
      runCli(p.t.db, argv, { out: (l) => out.push(l), err: () => {}, passwordParams: TEST_PASSWORD_PARAMS });
    expect(await run('resource-servers', 'create', '--name', 'Reports', '--id', 'reports-api')).toBe(0);
    const secret = out[1] as string;
    expect(await introspectAs('reports-api', secret)).toBe(200);
    out.length = 0;
    expect(await run('resource-servers', 'rotate', 'reports-api', '--overlap', '0')).toBe(0);
    expect(await introspectAs('reports-api', secret)).toBe(401);
    expect(await introspectAs('reports-api', out[1] as string)).toBe(200);
    out.length = 0;
    expect(await run('resource-servers', 'list')).toBe(0);
    expect(out.join('\n')).toContain('reports-api\tReports\tactive');
    expect(out.join('\n')).not.toContain('pors_');
  });
});
