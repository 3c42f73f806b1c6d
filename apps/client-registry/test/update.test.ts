// PATCH /v1/clients/:client_id: partial updates, the same rules as creation, and 404s.
import { beforeAll, describe, expect, it } from 'vitest';
import { ISO_DATE, useApp, validClient } from './helpers.js';

const h = useApp();
let clientId: string;
let createdAt: string;

// These tests are about the fields; If-Match is exercised in preconditions.test.ts, so `*` opts out of it here.
const patch = (payload: unknown, id = clientId) =>
  h.call({ method: 'PATCH', url: `/v1/clients/${id}`, headers: { 'if-match': '*' }, payload: payload as object });

beforeAll(async () => {
  const res = await h.call({ method: 'POST', url: '/v1/clients', payload: validClient });
  clientId = res.json().client_id;
  createdAt = res.json().created_at;
});

describe('PATCH /v1/clients/:client_id', () => {
  it('changes only the given fields, and a later GET shows the change', async () => {
    const res = await patch({ client_name: 'Acme Helpdesk 2', redirect_uris: ['https://acme.example/v2/cb', 'http://localhost:3000/cb'] });
    expect(res.statusCode).toBe(200);
    const expected = {
      ...validClient,
      client_id: clientId,
      client_name: 'Acme Helpdesk 2',
      redirect_uris: ['https://acme.example/v2/cb', 'http://localhost:3000/cb'],
      status: 'active',
      scope: 'app:read',
      default_scope: 'app:read',
      require_pkce: false,
      remove_url: null,
      expiring_tokens: false,
      access_token_lifetime: 43_200,
      refresh_token_idle_lifetime: 2_592_000,
      refresh_token_absolute_lifetime: 15_552_000,
      created_at: createdAt,
      updated_at: expect.stringMatching(ISO_DATE),
    };
    expect(res.json()).toEqual(expected);
    expect(res.json().updated_at >= createdAt).toBe(true);
    const read = await h.call({ method: 'GET', url: `/v1/clients/${clientId}` });
    expect(read.json()).toEqual(expected);
  });

  it('clears client_uri and logo_uri with null, and disables a client', async () => {
    const res = await patch({ client_uri: null, logo_uri: null, status: 'disabled', description: '' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ client_uri: null, logo_uri: null, status: 'disabled', description: '' });
    expect((await patch({ status: 'active' })).json().status).toBe('active');
  });

  it('never returns or changes the secret', async () => {
    const before = await h.t.db.selectFrom('client_secrets').select('secret_hash').where('client_id', '=', clientId).execute();
    const res = await patch({ description: 'new words' });
    expect(res.json()).not.toHaveProperty('client_secret');
    const after = await h.t.db.selectFrom('client_secrets').select('secret_hash').where('client_id', '=', clientId).execute();
    expect(after).toEqual(before);
  });

  it('answers 404 for an unknown client', async () => {
    const res = await patch({ client_name: 'Ghost' }, 'no-such-client');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });

  it('refuses an empty body', async () => {
    const res = await patch({});
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      message: 'body: must not have fewer than 1 properties',
      details: [{ field: 'body', message: 'must not have fewer than 1 properties' }],
    });
  });

  it.each([
    [
      'a javascript: redirect URI',
      { redirect_uris: ['javascript:alert(1)'] },
      { error: 'invalid_redirect_uri', message: 'redirect_uris[0]: scheme javascript: is not allowed' },
    ],
    [
      'duplicate redirect URIs',
      { redirect_uris: ['https://a.example/cb', 'https://a.example/cb'] },
      { error: 'invalid_redirect_uri', message: 'redirect_uris[1]: duplicates redirect_uris[0]' },
    ],
    [
      'an http logo_uri',
      { logo_uri: 'http://cdn.example/logo.png' },
      { error: 'invalid_client_metadata', message: 'logo_uri: must be an absolute https URL' },
    ],
    [
      'an http client_uri off loopback',
      { client_uri: 'http://acme.example' },
      { error: 'invalid_client_metadata', message: 'client_uri: must be an absolute https URL (http only on loopback hosts)' },
    ],
    [
      'a client_id (not updatable)',
      { client_id: 'chosen' },
      {
        error: 'invalid_request',
        message: 'client_id: is not a known field',
        details: [{ field: 'client_id', message: 'is not a known field' }],
      },
    ],
    [
      'an unknown status',
      { status: 'deleted' },
      {
        error: 'invalid_request',
        message: 'status: must be one of "active", "disabled"',
        details: [{ field: 'status', message: 'must be one of "active", "disabled"' }],
      },
    ],
    [
      'a number as logo_uri',
      { logo_uri: 42 },
      {
        error: 'invalid_request',
        message: 'logo_uri: must be string or null',
        details: [{ field: 'logo_uri', message: 'must be string or null' }],
      },
    ],
    [
      'a description over 1000 characters',
      { description: 'x'.repeat(1001) },
      {
        error: 'invalid_request',
        message: 'description: must not have more than 1000 characters',
        details: [{ field: 'description', message: 'must not have more than 1000 characters' }],
      },
    ],
    [
      'a client_uri over 2000 characters',
      { client_uri: `https://a.example/${'x'.repeat(2000)}` },
      {
        error: 'invalid_request',
        message: 'client_uri: must not have more than 2000 characters',
        details: [{ field: 'client_uri', message: 'must not have more than 2000 characters' }],
      },
    ],
  ])('refuses %s', async (_name, payload, body) => {
    const res = await patch(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(body);
  });

  it('leaves the client untouched after a refusal', async () => {
    const before = (await h.call({ method: 'GET', url: `/v1/clients/${clientId}` })).json();
    await patch({ client_name: 'Changed', redirect_uris: ['http://evil.example/cb'] });
    const after = (await h.call({ method: 'GET', url: `/v1/clients/${clientId}` })).json();
    expect(after).toEqual(before);
  });
});

describe('PATCH scopes, PKCE and remove_url', () => {
  /** A client of its own for each test, so no test depends on another's changes. */
  async function fresh(fields: object = {}): Promise<string> {
    const res = await h.call({ method: 'POST', url: '/v1/clients', payload: { ...validClient, ...fields } });
    expect(res.statusCode).toBe(201);
    return res.json().client_id;
  }
  const read = async (id: string) => (await h.call({ method: 'GET', url: `/v1/clients/${id}` })).json();

  it('widens scope and keeps the default', async () => {
    const id = await fresh();
    const res = await patch({ scope: 'users:read app:read conversations:read' }, id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ scope: 'app:read conversations:read users:read', default_scope: 'app:read' });
    expect(await read(id)).toMatchObject({ scope: 'app:read conversations:read users:read', default_scope: 'app:read' });
  });

  it('changes scope and default_scope together, in catalogue order', async () => {
    const id = await fresh({ scope: 'app:read users:read', default_scope: 'users:read' });
    const res = await patch({ scope: 'webhooks:manage conversations:write', default_scope: 'webhooks:manage conversations:write' }, id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      scope: 'conversations:write webhooks:manage',
      default_scope: 'conversations:write webhooks:manage',
    });
  });

  it('changes default_scope alone, against the stored scope, and may empty it', async () => {
    const id = await fresh({ scope: 'app:read users:read conversations:read' });
    expect((await patch({ default_scope: 'users:read conversations:read' }, id)).json()).toMatchObject({
      scope: 'app:read conversations:read users:read',
      default_scope: 'conversations:read users:read',
    });
    expect((await patch({ default_scope: '' }, id)).json()).toMatchObject({ default_scope: '' });
    const refused = await patch({ default_scope: 'webhooks:manage' }, id);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({
      error: 'invalid_client_metadata',
      message: 'default_scope: must be a subset of scope; not allowed: "webhooks:manage"',
    });
  });

  it('shrinks scope when the stored default still fits', async () => {
    const id = await fresh({ scope: 'app:read users:read', default_scope: 'app:read' });
    const res = await patch({ scope: 'app:read' }, id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ scope: 'app:read', default_scope: 'app:read' });
  });

  it('refuses to shrink scope below the stored default unless a new default is given', async () => {
    const id = await fresh({ scope: 'app:read users:read conversations:read' });
    const before = await read(id);
    const res = await patch({ scope: 'app:read' }, id);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_client_metadata',
      message: 'default_scope: give a new one; the current one names scopes no longer allowed: "conversations:read", "users:read"',
    });
    expect(await read(id)).toEqual(before);

    const withDefault = await patch({ scope: 'app:read', default_scope: 'app:read' }, id);
    expect(withDefault.statusCode).toBe(200);
    expect(withDefault.json()).toMatchObject({ scope: 'app:read', default_scope: 'app:read' });
  });

  it('refuses a new default outside the new scope, even if inside the old one', async () => {
    const id = await fresh({ scope: 'app:read users:read' });
    const res = await patch({ scope: 'app:read', default_scope: 'users:read' }, id);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_client_metadata',
      message: 'default_scope: must be a subset of scope; not allowed: "users:read"',
    });
  });

  it.each([
    ['an unknown scope', { scope: 'app:read app:write' }, 'scope: unknown scope "app:write"'],
    ['an empty scope', { scope: '' }, 'scope: must name at least one scope'],
    ['a malformed scope', { scope: 'app:read,users:read' }, 'scope: unknown scope "app:read,users:read"'],
    ['a quote in default_scope', { default_scope: '"app:read"' }, 'default_scope: must be scope tokens separated by spaces'],
    [
      'an http remove_url off loopback',
      { remove_url: 'http://acme.example/removed' },
      'remove_url: must be an absolute https URL (http only on loopback hosts)',
    ],
    ['a remove_url with a fragment', { remove_url: 'https://acme.example/removed#x' }, 'remove_url: must not contain a fragment'],
    ['a remove_url with userinfo', { remove_url: 'https://a:b@acme.example/removed' }, 'remove_url: must not contain userinfo'],
  ])('refuses %s', async (_name, payload, message) => {
    const id = await fresh();
    const res = await patch(payload, id);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_client_metadata', message });
  });

  it.each([
    ['require_pkce as a string', { require_pkce: 'yes' }, 'require_pkce', 'must be boolean'],
    ['require_pkce as null', { require_pkce: null }, 'require_pkce', 'must be boolean'],
    ['scope as null', { scope: null }, 'scope', 'must be string'],
    ['remove_url as a number', { remove_url: 42 }, 'remove_url', 'must be string or null'],
  ])('refuses %s', async (_name, payload, field, problem) => {
    const res = await patch(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: `${field}: ${problem}`, details: [{ field, message: problem }] });
  });

  it('turns require_pkce on and off', async () => {
    const id = await fresh();
    expect((await patch({ require_pkce: true }, id)).json()).toMatchObject({ require_pkce: true });
    expect(await read(id)).toMatchObject({ require_pkce: true });
    expect((await patch({ require_pkce: false }, id)).json()).toMatchObject({ require_pkce: false });
  });

  it('sets, changes and clears remove_url with null', async () => {
    const id = await fresh();
    expect((await patch({ remove_url: 'https://acme.example/removed' }, id)).json()).toMatchObject({
      remove_url: 'https://acme.example/removed',
    });
    expect((await patch({ remove_url: 'http://localhost:4000/removed' }, id)).json()).toMatchObject({
      remove_url: 'http://localhost:4000/removed',
    });
    expect((await patch({ description: 'unrelated' }, id)).json()).toMatchObject({ remove_url: 'http://localhost:4000/removed' });
    expect((await patch({ remove_url: null }, id)).json()).toMatchObject({ remove_url: null });
    expect(await read(id)).toMatchObject({ remove_url: null });
  });

  it('leaves scopes, PKCE and remove_url alone when other fields change', async () => {
    const id = await fresh({
      scope: 'app:read users:read',
      default_scope: 'users:read',
      require_pkce: true,
      remove_url: 'https://a.example/r',
    });
    const res = await patch({ client_name: 'Renamed' }, id);
    expect(res.json()).toMatchObject({
      client_name: 'Renamed',
      scope: 'app:read users:read',
      default_scope: 'users:read',
      require_pkce: true,
      remove_url: 'https://a.example/r',
    });
  });

  it('answers 404 for an unknown client before judging its scopes', async () => {
    const res = await patch({ default_scope: 'app:read' }, 'no-such-client');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });

  // Regression guard: checking the default against a scope read outside the update's transaction let two concurrent
  // PATCHes each pass their check and together store a default_scope outside the allowed scopes.
  it('never leaves default_scope outside scope under concurrent PATCHes', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await fresh({ scope: 'app:read users:read', default_scope: 'app:read' });
      const [shrink, widen] = await Promise.all([patch({ scope: 'app:read' }, id), patch({ default_scope: 'app:read users:read' }, id)]);
      expect([shrink.statusCode, widen.statusCode].sort()).toEqual([200, 400]);
      const client = await read(id);
      const allowed = client.scope.split(' ');
      for (const s of client.default_scope.split(' ').filter(Boolean)) expect(allowed).toContain(s);
    }
  });
});
