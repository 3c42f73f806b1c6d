// The rest of the admin API: list filters, RFC 7591 policy/terms URLs, the button snippet, the audit log, OpenAPI.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ISO_DATE, useApp, validClient } from './helpers.js';

const h = useApp();

const create = (fields: object = {}) => h.call({ method: 'POST', url: '/v1/clients', payload: { ...validClient, ...fields } });

describe('GET /v1/clients filters', () => {
  it('filters by status and by a case-insensitive part of the name, wildcards taken literally', async () => {
    const a = (await create({ client_name: 'Zebra Filter One' })).json().client_id;
    const b = (await create({ client_name: 'zebra filter two' })).json().client_id;
    await create({ client_name: 'Zebra_100% Literal' });
    await h.call({ method: 'PATCH', url: `/v1/clients/${b}`, headers: { 'if-match': '*' }, payload: { status: 'disabled' } });
    const byName = await h.call({ method: 'GET', url: '/v1/clients?client_name=ZEBRA%20FILTER' });
    expect(byName.json().items.map((c: { client_id: string }) => c.client_id)).toEqual([a, b]);
    const disabled = await h.call({ method: 'GET', url: '/v1/clients?client_name=zebra&status=disabled' });
    expect(disabled.json().items.map((c: { client_id: string }) => c.client_id)).toEqual([b]);
    const literal = await h.call({ method: 'GET', url: '/v1/clients?client_name=_100%25' });
    expect(literal.json().items.map((c: { client_name: string }) => c.client_name)).toEqual(['Zebra_100% Literal']);
    const none = await h.call({ method: 'GET', url: '/v1/clients?client_name=%25' });
    expect(none.json().items.map((c: { client_name: string }) => c.client_name)).toEqual(['Zebra_100% Literal']);
  });

  it('refuses an unknown status and an empty name', async () => {
    const status = await h.call({ method: 'GET', url: '/v1/clients?status=deleted' });
    expect(status.statusCode).toBe(400);
    expect(status.json().message).toMatch(/^status: /);
    const name = await h.call({ method: 'GET', url: '/v1/clients?client_name=' });
    expect(name.statusCode).toBe(400);
    expect(name.json().message).toMatch(/^client_name: /);
  });
});

describe('policy_uri and tos_uri (RFC 7591 §2)', () => {
  it('stores them, and clears them with null', async () => {
    const res = await create();
    expect(res.json()).toMatchObject({ policy_uri: 'https://acme.example/privacy', tos_uri: 'https://acme.example/terms' });
    const cleared = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${res.json().client_id}`,
      headers: { 'if-match': '*' },
      payload: { policy_uri: null, tos_uri: 'http://localhost:4000/terms' },
    });
    expect(cleared.json()).toMatchObject({ policy_uri: null, tos_uri: 'http://localhost:4000/terms' });
  });

  it.each([
    ['policy_uri', 'http://acme.example/privacy', 'must be an absolute https URL (http only on loopback hosts)'],
    ['policy_uri', 'javascript:alert(1)', 'must be an absolute https URL (http only on loopback hosts)'],
    ['tos_uri', 'https://user:pw@acme.example/terms', 'must not contain userinfo'],
    ['tos_uri', '/terms', 'must be an absolute https URL (http only on loopback hosts)'],
  ])('refuses %s %s', async (field, value, problem) => {
    const res = await create({ [field]: value });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_client_metadata', message: `${field}: ${problem}` });
  });
});

describe('GET /v1/clients/:client_id/button', () => {
  it('serves the spec’s snippet pointing at this deployment, images from authorize-ui at 1x and 2x', async () => {
    const res = await h.call({ method: 'GET', url: '/v1/clients/shoplifter/button' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toBe(
      '<a href="http://localhost:3000/oauth/authorize?client_id=shoplifter&amp;response_type=code">' +
        '<img alt="Add to Smooch" height="40" width="165" src="http://localhost:3000/static/add_to_button.png" ' +
        'srcset="http://localhost:3000/static/add_to_button.png 1x, http://localhost:3000/static/add_to_button@2x.png 2x"/></a>',
    );
  });

  it.each([
    ['add_to_button.png', 165, 40],
    ['add_to_button@2x.png', 330, 80],
  ])('has the image %s, %ix%i, in authorize-ui/public (served at /static/)', (file, width, height) => {
    const png = readFileSync(new URL(`../../authorize-ui/public/${file}`, import.meta.url));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([width, height]);
  });

  it('answers 404 in the error shape for an unknown client', async () => {
    const res = await h.call({ method: 'GET', url: '/v1/clients/nobody-here/button' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });
});

describe('GET /v1/audit-log', () => {
  it('records creation by which key, newest first, with a cursor, and never a secret', async () => {
    const created = (await create({ client_name: 'Audited' })).json();
    const page = await h.call({ method: 'GET', url: '/v1/audit-log?limit=1' });
    expect(page.statusCode).toBe(200);
    const [entry] = page.json().items;
    expect(entry).toEqual({
      id: expect.stringMatching(/^\d+$/),
      admin_key_id: h.adminKeyId,
      admin_key_name: 'test-suite',
      action: 'client.create',
      target_type: 'client',
      target_id: created.client_id,
      before: null,
      after: expect.objectContaining({ client_id: created.client_id, client_name: 'Audited' }),
      request_id: expect.any(String),
      created_at: expect.stringMatching(ISO_DATE),
    });
    expect(page.body).not.toContain(created.client_secret);
    expect(page.body).not.toContain(created.webhook_secret);
    const next = await h.call({ method: 'GET', url: `/v1/audit-log?limit=1&cursor=${page.json().next_cursor}` });
    expect(Number(next.json().items[0].id)).toBeLessThan(Number(entry.id));
  });

  it('records before and after of an update', async () => {
    const id = (await create()).json().client_id;
    await h.call({ method: 'PATCH', url: `/v1/clients/${id}`, headers: { 'if-match': '"r1"' }, payload: { client_name: 'Renamed' } });
    const log = await h.call({ method: 'GET', url: `/v1/audit-log?target_type=client&target_id=${id}&limit=1` });
    expect(log.json().items[0]).toMatchObject({
      action: 'client.update',
      before: { client_name: 'Acme Helpdesk' },
      after: { client_name: 'Renamed' },
    });
  });

  it.each(['abc', 'MA', Buffer.from('0').toString('base64url'), `${Buffer.from('12').toString('base64url')}=`])(
    'refuses the cursor %s',
    async (cursor) => {
      const res = await h.call({ method: 'GET', url: `/v1/audit-log?cursor=${encodeURIComponent(cursor)}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', message: 'cursor: is not a cursor returned by this API' });
    },
  );
});

/** `METHOD /path/{param}` of every route in Fastify's route tree, without HEAD and the documentation's own routes. */
function servedRoutes(tree: string): string[] {
  const parents: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = (match[1] as string).length / 4;
    const segment = match[2] as string;
    const parent = parents[depth - 1] ?? '';
    const path = parent.endsWith('/') || segment.startsWith('/') ? `${parent}${segment}` : `${parent}/${segment}`;
    parents[depth] = path;
    parents.length = depth + 1;
    if (path.startsWith('/docs') || path === '/openapi.json') continue;
    for (const method of (match[3] as string).split(', ')) {
      if (method !== 'HEAD') routes.push(`${method} ${path.replace(/:([a-z_]+)/g, '{$1}')}`);
    }
  }
  return routes;
}

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document, without credentials, listing every route of the app', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    // Every route Fastify serves, apart from the documentation's own, must be in the document; these at least.
    const known = [
      'GET /health/live',
      'POST /v1/clients',
      'GET /v1/clients',
      'GET /v1/clients/{client_id}',
      'PATCH /v1/clients/{client_id}',
      'DELETE /v1/clients/{client_id}',
      'GET /v1/clients/{client_id}/secrets',
      'POST /v1/clients/{client_id}/secrets',
      'DELETE /v1/clients/{client_id}/secrets/{secret_id}',
      'POST /v1/clients/{client_id}/webhook-secret',
      'GET /v1/clients/{client_id}/authorizations',
      'DELETE /v1/clients/{client_id}/authorizations/{authorization_id}',
      'GET /v1/clients/{client_id}/button',
      'GET /v1/audit-log',
    ];
    const served = servedRoutes(h.app.printRoutes({ commonPrefix: false }));
    for (const route of known) expect(served).toContain(route);
    expect([...documented].sort()).toEqual(served.sort());
  });

  it('serves the UI at /docs from this server', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).not.toMatch(/https?:\/\/(unpkg|cdn|cdnjs)/);
  });
});
