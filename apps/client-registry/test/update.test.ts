// PATCH /v1/clients/:client_id: partial updates, the same rules as creation, and 404s.
import { beforeAll, describe, expect, it } from 'vitest';
import { ISO_DATE, useApp, validClient } from './helpers.js';

const h = useApp();
let clientId: string;
let createdAt: string;

const patch = (payload: unknown, id = clientId) => h.call({ method: 'PATCH', url: `/v1/clients/${id}`, payload: payload as object });

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
    const before = await h.testDb.db.selectFrom('client_secrets').select('secret_hash').where('client_id', '=', clientId).execute();
    const res = await patch({ description: 'new words' });
    expect(res.json()).not.toHaveProperty('client_secret');
    const after = await h.testDb.db.selectFrom('client_secrets').select('secret_hash').where('client_id', '=', clientId).execute();
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
