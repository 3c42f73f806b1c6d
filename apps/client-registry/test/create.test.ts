// POST /v1/clients: the created client, its one-time secret, and every refusal.

import { sha256 } from '@partner-oauth/service-kit';
import { webhookSigningSecret } from '@partner-oauth/webhooks';
import { describe, expect, it } from 'vitest';
import { CLIENT_ID, ISO_DATE, useApp, validClient, WEBHOOK_SIGNING_KEY } from './helpers.js';

const h = useApp();

const create = (payload: unknown) => h.call({ method: 'POST', url: '/v1/clients', payload: payload as object });

describe('POST /v1/clients', () => {
  it('creates a client and returns it with its secret, once', async () => {
    const res = await create(validClient);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'client_id',
        'client_name',
        'client_secret',
        'client_uri',
        'created_at',
        'description',
        'logo_uri',
        'policy_uri',
        'tos_uri',
        'redirect_uris',
        'status',
        'scope',
        'default_scope',
        'require_pkce',
        'remove_url',
        'expiring_tokens',
        'access_token_lifetime',
        'refresh_token_idle_lifetime',
        'refresh_token_absolute_lifetime',
        'webhook_secret',
        'updated_at',
      ].sort(),
    );
    expect(body).toEqual({
      client_id: expect.stringMatching(CLIENT_ID),
      client_secret: expect.stringMatching(/^pocs_[A-Za-z0-9_-]{43}$/),
      webhook_secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
      client_name: 'Acme Helpdesk',
      description: 'Answers your customers from Acme.',
      client_uri: 'https://acme.example',
      logo_uri: 'https://cdn.acme.example/logo.png',
      policy_uri: 'https://acme.example/privacy',
      tos_uri: 'https://acme.example/terms',
      redirect_uris: ['https://acme.example/oauth/callback'],
      status: 'active',
      scope: 'app:read',
      default_scope: 'app:read',
      require_pkce: false,
      remove_url: null,
      expiring_tokens: false,
      access_token_lifetime: 43_200,
      refresh_token_idle_lifetime: 2_592_000,
      refresh_token_absolute_lifetime: 15_552_000,
      created_at: expect.stringMatching(ISO_DATE),
      updated_at: expect.stringMatching(ISO_DATE),
    });
    expect(res.headers.location).toBe(`/v1/clients/${body.client_id}`);
    expect(res.headers['cache-control']).toBe('no-store');

    const again = await h.call({ method: 'GET', url: `/v1/clients/${body.client_id}` });
    expect(again.statusCode).toBe(200);
    const { client_secret: _cs, webhook_secret: _ws, ...view } = body;
    expect(again.json()).toEqual(view);
    expect(again.body).not.toContain(body.client_secret);
    expect(again.body).not.toContain(body.webhook_secret);
  });

  it('returns the webhook secret derived from the signing key, version 1, and never again', async () => {
    const res = await create({ ...validClient, remove_url: 'https://acme.example/oauth/removed' });
    const body = res.json();
    expect(body.webhook_secret).toBe(webhookSigningSecret(WEBHOOK_SIGNING_KEY, body.client_id, 1));

    const list = await h.call({ method: 'GET', url: '/v1/clients?limit=100' });
    expect(list.body).not.toContain(body.webhook_secret);
    expect(list.body).not.toContain('webhook_secret');
    const patched = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${body.client_id}`,
      headers: { 'if-match': '*' },
      payload: { description: 'x' },
    });
    expect(patched.json()).not.toHaveProperty('webhook_secret');
    expect(patched.body).not.toContain(body.webhook_secret);
  });

  it('stores the client secret only as its SHA-256, and the webhook secret not at all', async () => {
    const { client_id, client_secret, webhook_secret } = (await create(validClient)).json();
    const secrets = await h.t.db.selectFrom('client_secrets').selectAll().where('client_id', '=', client_id).execute();
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.secret_hash).toBe(sha256(client_secret));

    // Nowhere in the database, in any column of any table, does the clear secret appear.
    const dump = await h.t.db
      .selectFrom('client_secrets')
      .fullJoin('clients', 'clients.client_id', 'client_secrets.client_id')
      .selectAll()
      .execute();
    expect(JSON.stringify(dump)).not.toContain(client_secret);
    expect(JSON.stringify(dump)).not.toContain(webhook_secret);
  });

  it('issues a different id and secrets each time', async () => {
    const a = (await create(validClient)).json();
    const b = (await create(validClient)).json();
    expect(a.client_id).not.toBe(b.client_id);
    expect(a.client_secret).not.toBe(b.client_secret);
    expect(a.webhook_secret).not.toBe(b.webhook_secret);
  });

  it('fills the optional fields with empty values and the narrowest scope', async () => {
    const res = await create({ client_name: 'Minimal', redirect_uris: ['https://min.example/cb'] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      description: '',
      client_uri: null,
      logo_uri: null,
      scope: 'app:read',
      default_scope: 'app:read',
      require_pkce: false,
      remove_url: null,
    });
  });

  it('stores scope, default_scope, require_pkce and remove_url as given, scopes in catalogue order', async () => {
    const res = await create({
      ...validClient,
      scope: 'users:read  app:read conversations:write conversations:read app:read',
      default_scope: 'conversations:read app:read',
      require_pkce: true,
      remove_url: 'https://acme.example/oauth/removed?source=platform',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      scope: 'app:read conversations:read conversations:write users:read',
      default_scope: 'app:read conversations:read',
      require_pkce: true,
      remove_url: 'https://acme.example/oauth/removed?source=platform',
    });
    const row = await h.t.db.selectFrom('clients').selectAll().where('client_id', '=', body.client_id).executeTakeFirstOrThrow();
    expect(row.allowed_scopes).toEqual(['app:read', 'conversations:read', 'conversations:write', 'users:read']);
    expect(row.default_scope).toBe('app:read conversations:read');
    expect(row.webhook_secret_version).toBe(1);
    expect((await h.call({ method: 'GET', url: `/v1/clients/${body.client_id}` })).json()).toMatchObject({
      scope: 'app:read conversations:read conversations:write users:read',
      default_scope: 'app:read conversations:read',
      require_pkce: true,
      remove_url: 'https://acme.example/oauth/removed?source=platform',
    });
  });

  it('defaults default_scope to every allowed scope', async () => {
    const res = await create({ ...validClient, scope: 'webhooks:manage app:read' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ scope: 'app:read webhooks:manage', default_scope: 'app:read webhooks:manage' });
  });

  it('accepts an empty default_scope', async () => {
    const res = await create({ ...validClient, scope: 'app:read users:read', default_scope: '' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ scope: 'app:read users:read', default_scope: '' });
  });

  it('takes default_scope against app:read when scope is absent', async () => {
    expect((await create({ ...validClient, default_scope: 'app:read' })).json()).toMatchObject({
      scope: 'app:read',
      default_scope: 'app:read',
    });
    const res = await create({ ...validClient, default_scope: 'users:read' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_client_metadata',
      message: 'default_scope: must be a subset of scope; not allowed: "users:read"',
    });
  });

  it.each([
    ['loopback http', 'http://127.0.0.1:4000/removed'],
    ['localhost http', 'http://localhost:4000/removed'],
    ['IPv6 loopback http', 'http://[::1]/removed'],
    ['https with a port and query', 'https://hooks.acme.example:8443/removed?x=1'],
  ])('accepts a remove_url with %s', async (_name, url) => {
    const res = await create({ ...validClient, remove_url: url });
    expect(res.statusCode).toBe(201);
    expect(res.json().remove_url).toBe(url);
  });

  it.each([
    ['loopback http', 'http://127.0.0.1:8080/cb'],
    ['localhost http', 'http://localhost/cb'],
    ['IPv6 loopback http', 'http://[::1]:9000/cb'],
    ['a private-use scheme', 'com.acme.app:/oauth2redirect'],
    ['a query string', 'https://acme.example/cb?tenant=1'],
  ])('accepts a redirect URI with %s', async (_name, uri) => {
    const res = await create({ ...validClient, redirect_uris: [uri] });
    expect(res.statusCode).toBe(201);
    expect(res.json().redirect_uris).toEqual([uri]);
  });

  it('accepts http on loopback for client_uri', async () => {
    const res = await create({ ...validClient, client_uri: 'http://localhost:4000' });
    expect(res.statusCode).toBe(201);
  });
});

describe('POST /v1/clients refusals', () => {
  it('refuses a missing client_name', async () => {
    const { client_name: _, ...rest } = validClient;
    const res = await create(rest);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'client_name: is required',
      details: [{ field: 'client_name', message: 'is required' }],
    });
  });

  it('refuses an empty client_name', async () => {
    const res = await create({ ...validClient, client_name: '' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'client_name: must not have fewer than 1 characters',
      details: [{ field: 'client_name', message: 'must not have fewer than 1 characters' }],
    });
  });

  it('refuses missing and empty redirect_uris', async () => {
    const { redirect_uris: _, ...rest } = validClient;
    expect((await create(rest)).json()).toEqual({
      error: 'invalid_request',
      message: 'redirect_uris: is required',
      details: [{ field: 'redirect_uris', message: 'is required' }],
    });
    const empty = await create({ ...validClient, redirect_uris: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({
      error: 'invalid_request',
      message: 'redirect_uris: must not have fewer than 1 items',
      details: [{ field: 'redirect_uris', message: 'must not have fewer than 1 items' }],
    });
  });

  it('refuses more than 10 redirect URIs', async () => {
    const uris = Array.from({ length: 11 }, (_, i) => `https://acme.example/cb${i}`);
    const res = await create({ ...validClient, redirect_uris: uris });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'redirect_uris: must not have more than 10 items',
      details: [{ field: 'redirect_uris', message: 'must not have more than 10 items' }],
    });
  });

  it('refuses an unknown field', async () => {
    const res = await create({ ...validClient, client_secret: 'chosen-by-caller' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'client_secret: is not a known field',
      details: [{ field: 'client_secret', message: 'is not a known field' }],
    });
  });

  // Regression: ajv's coerceTypes turned a string into a one-item array and null into "" before validation.
  it.each([
    ['redirect_uris', 'redirect_uris', 'https://acme.example/cb', 'must be array'],
    ['redirect_uris', 'redirect_uris[1]', ['https://acme.example/cb', 42], 'must be string'],
    ['client_name', 'client_name', 123, 'must be string'],
    ['client_uri', 'client_uri', null, 'must be string'],
    ['description', 'description', false, 'must be string'],
  ])('refuses %s of the wrong type without coercing it (%s)', async (key, field, value, problem) => {
    const res = await create({ ...validClient, [key]: value });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: `${field}: ${problem}`, details: [{ field, message: problem }] });
  });

  it('names every problem in details, the first in message', async () => {
    const res = await create({ description: 'x'.repeat(1001), redirect_uris: [], extra: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'client_name: is required',
      details: [
        { field: 'client_name', message: 'is required' },
        { field: 'extra', message: 'is not a known field' },
        { field: 'description', message: 'must not have more than 1000 characters' },
        { field: 'redirect_uris', message: 'must not have fewer than 1 items' },
      ],
    });
  });

  it.each([
    ['javascript:', 'javascript:alert(1)', 'scheme javascript: is not allowed'],
    ['data:', 'data:text/html,<script>alert(1)</script>', 'scheme data: is not allowed'],
    ['file:', 'file:///etc/passwd', 'scheme file: is not allowed'],
    ['a relative URI', '/callback', 'must be an absolute URI'],
    ['a fragment', 'https://acme.example/cb#frag', 'must not contain a fragment'],
    ['userinfo', 'https://user:pass@acme.example/cb', 'must not contain userinfo'],
    ['a wildcard', 'https://*.acme.example/cb', 'must not contain wildcards'],
    ['non-loopback http', 'http://acme.example/cb', 'http is allowed only on loopback hosts; use https'],
    ['a space', 'https://acme.example/c b', 'must not contain spaces, control characters or backslashes'],
    [
      'a plain custom scheme',
      'myapp://cb',
      'scheme myapp: is not allowed; use https, loopback http or a reverse-domain private-use scheme',
    ],
  ])('refuses a redirect URI with %s', async (_name, uri, reason) => {
    const res = await create({ ...validClient, redirect_uris: ['https://acme.example/ok', uri] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_redirect_uri', message: `redirect_uris[1]: ${reason}` });
  });

  it('refuses duplicate redirect URIs', async () => {
    const res = await create({ ...validClient, redirect_uris: ['https://a.example/cb', 'https://b.example/cb', 'https://a.example/cb'] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_redirect_uri', message: 'redirect_uris[2]: duplicates redirect_uris[0]' });
  });

  it.each([
    ['logo_uri', 'http://cdn.acme.example/logo.png', 'must be an absolute https URL'],
    ['logo_uri', 'http://localhost/logo.png', 'must be an absolute https URL'],
    ['logo_uri', 'javascript:alert(1)', 'must be an absolute https URL'],
    ['logo_uri', 'logo.png', 'must be an absolute https URL'],
    ['logo_uri', 'https://user@cdn.acme.example/logo.png', 'must not contain userinfo'],
    ['logo_uri', 'https://cdn.acme.example/\nlogo.png', 'must not contain spaces, control characters or backslashes'],
    ['client_uri', 'http://acme.example', 'must be an absolute https URL (http only on loopback hosts)'],
    ['client_uri', 'ftp://acme.example', 'must be an absolute https URL (http only on loopback hosts)'],
    ['client_uri', '', 'must be an absolute https URL (http only on loopback hosts)'],
  ])('refuses %s %j', async (field, value, reason) => {
    const res = await create({ ...validClient, [field]: value });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_client_metadata', message: `${field}: ${reason}` });
  });

  it.each([
    ['an unknown scope', { scope: 'app:read admin' }, 'scope: unknown scope "admin"'],
    ['several unknown scopes', { scope: 'users:write app:read openid' }, 'scope: unknown scopes "openid", "users:write"'],
    ['a scope differing in case', { scope: 'App:Read' }, 'scope: unknown scope "App:Read"'],
    ['an empty scope', { scope: '' }, 'scope: must name at least one scope'],
    ['a scope of spaces', { scope: '   ' }, 'scope: must name at least one scope'],
    ['a quote in scope', { scope: 'app:read "x"' }, 'scope: must be scope tokens separated by spaces'],
    ['a tab in scope', { scope: 'app:read\tusers:read' }, 'scope: must be scope tokens separated by spaces'],
    ['a non-ASCII scope', { scope: 'app:réad' }, 'scope: must be scope tokens separated by spaces'],
    [
      'a default outside scope',
      { scope: 'app:read', default_scope: 'app:read users:read' },
      'default_scope: must be a subset of scope; not allowed: "users:read"',
    ],
    [
      'an unknown default',
      { scope: 'app:read', default_scope: 'everything' },
      'default_scope: must be a subset of scope; not allowed: "everything"',
    ],
    ['a malformed default', { scope: 'app:read', default_scope: 'app:read\\' }, 'default_scope: must be scope tokens separated by spaces'],
  ])('refuses %s', async (_name, fields, message) => {
    const res = await create({ ...validClient, ...fields });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_client_metadata', message });
  });

  it.each([
    ['http off loopback', 'http://acme.example/removed', 'must be an absolute https URL (http only on loopback hosts)'],
    ['another scheme', 'ftp://acme.example/removed', 'must be an absolute https URL (http only on loopback hosts)'],
    ['javascript:', 'javascript:alert(1)', 'must be an absolute https URL (http only on loopback hosts)'],
    ['a relative URL', '/removed', 'must be an absolute https URL (http only on loopback hosts)'],
    ['an empty string', '', 'must be an absolute https URL (http only on loopback hosts)'],
    ['userinfo', 'https://user:pass@acme.example/removed', 'must not contain userinfo'],
    ['a user name only', 'https://user@acme.example/removed', 'must not contain userinfo'],
    ['a fragment', 'https://acme.example/removed#section', 'must not contain a fragment'],
    ['an empty fragment', 'https://acme.example/removed#', 'must not contain a fragment'],
    ['a newline', 'https://acme.example/\nremoved', 'must not contain spaces, control characters or backslashes'],
    ['a backslash', 'https://acme.example\\@evil.example/', 'must not contain spaces, control characters or backslashes'],
  ])('refuses a remove_url with %s', async (_name, url, reason) => {
    const res = await create({ ...validClient, remove_url: url });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_client_metadata', message: `remove_url: ${reason}` });
  });

  it.each([
    ['require_pkce', 'require_pkce', 'true', 'must be boolean'],
    ['scope', 'scope', ['app:read'], 'must be string'],
    ['remove_url', 'remove_url', null, 'must be string'],
    ['default_scope', 'default_scope', null, 'must be string'],
  ])('refuses %s of the wrong type (%j)', async (key, field, value, problem) => {
    const res = await create({ ...validClient, [key]: value });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: `${field}: ${problem}`, details: [{ field, message: problem }] });
  });

  it('creates nothing when it refuses', async () => {
    const before = await h.t.db
      .selectFrom('clients')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    await create({ ...validClient, redirect_uris: ['http://evil.example/cb'] });
    await create({ ...validClient, logo_uri: 'http://evil.example/x.png' });
    await create({ ...validClient, scope: 'app:read admin' });
    await create({ ...validClient, remove_url: 'http://evil.example/removed' });
    const after = await h.t.db
      .selectFrom('clients')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});
