// The expiring-token setting of a client (issue 14): admin API, its bounds, the audit log, OpenAPI and the CLI.
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/commands.js';
import { useApp, validClient } from './helpers.js';

const h = useApp();
const create = (payload: object) => h.call({ method: 'POST', url: '/v1/clients', payload });
const patch = (id: string, payload: object) => h.call({ method: 'PATCH', url: `/v1/clients/${id}`, headers: { 'if-match': '*' }, payload });
const OFF = {
  expiring_tokens: false,
  access_token_lifetime: 43_200,
  refresh_token_idle_lifetime: 2_592_000,
  refresh_token_absolute_lifetime: 15_552_000,
};

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(h.t.db, argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('the expiring-token setting in the admin API', () => {
  it('is off by default, with the documented default lifetimes', async () => {
    const res = await create(validClient);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject(OFF);
    expect((await h.call({ method: 'GET', url: `/v1/clients/${res.json().client_id}` })).json()).toMatchObject(OFF);
  });

  it('is set at creation and changed by PATCH, each change audited with before and after', async () => {
    const created = await create({ ...validClient, expiring_tokens: true, access_token_lifetime: 300 });
    expect(created.json()).toMatchObject({ ...OFF, expiring_tokens: true, access_token_lifetime: 300 });
    const id = created.json().client_id;
    const changed = await patch(id, {
      access_token_lifetime: 86_400,
      refresh_token_idle_lifetime: 3600,
      refresh_token_absolute_lifetime: 86_400,
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      expiring_tokens: true,
      access_token_lifetime: 86_400,
      refresh_token_idle_lifetime: 3600,
      refresh_token_absolute_lifetime: 86_400,
    });
    const off = await patch(id, { expiring_tokens: false });
    expect(off.json()).toMatchObject({ expiring_tokens: false, access_token_lifetime: 86_400 });
    const log = await h.call({ method: 'GET', url: `/v1/audit-log?target_type=client&target_id=${id}&limit=1` });
    expect(log.json().items[0]).toMatchObject({
      action: 'client.update',
      before: { expiring_tokens: true },
      after: { expiring_tokens: false, access_token_lifetime: 86_400 },
    });
  });

  it.each([
    ['access_token_lifetime', 299, 'must be >= 300'],
    ['access_token_lifetime', 86_401, 'must be <= 86400'],
    ['refresh_token_idle_lifetime', 3599, 'must be >= 3600'],
    ['refresh_token_absolute_lifetime', 31_536_001, 'must be <= 31536000'],
    ['access_token_lifetime', 600.5, 'must be integer'],
  ])('refuses %s = %s', async (field, value, message) => {
    const res = await create({ ...validClient, [field]: value });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: 'invalid_request',
      details: [{ field, message: expect.stringContaining(message.split(' ').at(-1) as string) }],
    });
  });

  it('refuses an idle lifetime longer than the absolute one, at creation and against the stored value', async () => {
    const res = await create({ ...validClient, refresh_token_idle_lifetime: 200_000, refresh_token_absolute_lifetime: 100_000 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_client_metadata',
      message: 'refresh_token_idle_lifetime (200000) must not exceed refresh_token_absolute_lifetime (100000)',
    });
    const id = (await create(validClient)).json().client_id;
    const shrunk = await patch(id, { refresh_token_absolute_lifetime: 86_400 });
    expect(shrunk.json()).toEqual({
      error: 'invalid_client_metadata',
      message: 'refresh_token_idle_lifetime (2592000) must not exceed refresh_token_absolute_lifetime (86400)',
    });
  });

  it('is described in the OpenAPI document with its bounds', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const body = doc.paths['/v1/clients'].post.requestBody.content['application/json'].schema;
    expect(body.properties.access_token_lifetime).toMatchObject({ type: 'integer', minimum: 300, maximum: 86_400 });
    expect(body.properties.expiring_tokens).toMatchObject({ type: 'boolean' });
  });
});

describe('pnpm cli clients token-expiry', () => {
  it('turns the setting on and off, audited under the cli actor', async () => {
    const id = (await create(validClient)).json().client_id;
    const on = await cli('clients', 'token-expiry', id, '--on', '--access-lifetime', '600');
    expect(on).toMatchObject({
      code: 0,
      out: [`${id}: expiring tokens on (access 600 s, refresh idle 2592000 s, absolute 15552000 s) for tokens issued from now on`],
    });
    expect((await h.call({ method: 'GET', url: `/v1/clients/${id}` })).json()).toMatchObject({
      expiring_tokens: true,
      access_token_lifetime: 600,
    });
    const log = await h.call({ method: 'GET', url: `/v1/audit-log?target_type=client&target_id=${id}&limit=1` });
    expect(log.json().items[0]).toMatchObject({
      admin_key_name: 'cli',
      action: 'client.update',
      before: { expiring_tokens: false },
      after: { expiring_tokens: true },
    });
    expect((await cli('clients', 'token-expiry', id, '--off')).code).toBe(0);
    expect((await h.call({ method: 'GET', url: `/v1/clients/${id}` })).json()).toMatchObject({ expiring_tokens: false });
  });

  it.each([
    [['--on', '--off'], 'give exactly one of --on and --off'],
    [['--on', '--access-lifetime', '60'], '--access-lifetime must be whole seconds from 300 to 86400'],
    [
      ['--on', '--refresh-idle', '200000', '--refresh-absolute', '100000'],
      'the refresh idle lifetime (200000) must not exceed the absolute one (100000)',
    ],
  ])('refuses %j', async (args, message) => {
    const id = (await create(validClient)).json().client_id;
    const res = await cli('clients', 'token-expiry', id, ...args);
    expect(res.code).toBe(2);
    expect(res.err[0]).toBe(`error: ${message}`);
  });

  it('refuses an unknown client', async () => {
    expect((await cli('clients', 'token-expiry', 'nobody', '--on')).err[0]).toBe('error: no client has the id "nobody"');
  });
});
