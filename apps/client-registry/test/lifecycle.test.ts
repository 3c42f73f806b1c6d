// Disabling, deleting and the installations of a client: authorizations and tokens end, partners are notified.
import { randomToken, sha256 } from '@partner-oauth/service-kit';
import { findActiveToken, issueToken } from '@partner-oauth/storage';
import { describe, expect, it } from 'vitest';
import { ISO_DATE, useApp, validClient } from './helpers.js';

const h = useApp();

async function fresh(fields: object = {}): Promise<string> {
  const res = await h.call({
    method: 'POST',
    url: '/v1/clients',
    payload: { ...validClient, scope: 'app:read users:read', remove_url: 'https://acme.example/removed', ...fields },
  });
  return res.json().client_id;
}

/** Installs the client on a seeded app, as a consent would; returns the authorization and its token. */
async function install(clientId: string, appName: string, email = 'ada@example.com') {
  const token = randomToken(32, 'poat_');
  const issued = await issueToken(h.t.db, {
    clientId,
    appId: h.t.ids.apps[appName] as string,
    accountId: h.t.ids.accounts[email] as string,
    scope: 'app:read',
    tokenHash: sha256(token),
    codeHash: null,
  });
  return { ...issued, token };
}

const outbox = (clientId: string) =>
  h.t.db.selectFrom('webhook_deliveries').select(['authorization_id', 'reason', 'url']).where('client_id', '=', clientId).execute();

describe('disable and re-enable', () => {
  it('ends the client’s tokens for good when disabled (re-enabling revives none), notifies the partner, and audits both', async () => {
    const id = await fresh();
    const { token } = await install(id, 'Acme Support');
    expect(await findActiveToken(h.t.db, sha256(token))).toBeDefined();
    const off = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${id}`,
      headers: { 'if-match': '"r1"' },
      payload: { status: 'disabled' },
    });
    expect(off.json().status).toBe('disabled');
    expect(await findActiveToken(h.t.db, sha256(token))).toBeUndefined();
    const on = await h.call({ method: 'PATCH', url: `/v1/clients/${id}`, headers: { 'if-match': '"r2"' }, payload: { status: 'active' } });
    expect(on.json().status).toBe('active');
    // A kill switch, not a pause: the authorization ended with its token, and the owner must consent again.
    expect(await findActiveToken(h.t.db, sha256(token))).toBeUndefined();
    const live = await h.t.db
      .selectFrom('authorizations')
      .select('id')
      .where('client_id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    const notices = await h.t.db.selectFrom('webhook_deliveries').select('reason').where('client_id', '=', id).execute();
    expect(notices).toEqual([{ reason: 'admin_removed' }]);
    const log = await h.call({ method: 'GET', url: `/v1/audit-log?target_type=client&target_id=${id}` });
    expect(log.json().items.map((e: { action: string }) => e.action)).toEqual(['client.enable', 'client.disable', 'client.create']);
  });
});

describe('DELETE /v1/clients/:client_id', () => {
  it('ends every authorization and token, queues one removal notice per authorization, and answers 204', async () => {
    const id = await fresh();
    const a = await install(id, 'Acme Support');
    const b = await install(id, 'Grace Shop', 'grace@example.com');
    const res = await h.call({ method: 'DELETE', url: `/v1/clients/${id}`, headers: { 'if-match': '"r1"' } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await h.call({ method: 'GET', url: `/v1/clients/${id}` })).statusCode).toBe(404);
    for (const t of [a, b]) expect(await findActiveToken(h.t.db, sha256(t.token))).toBeUndefined();
    // The outbox rows have no foreign key: they survive the client so the partner still hears about it.
    const notices = await outbox(id);
    expect(notices.map((n) => n.authorization_id).sort()).toEqual([a.authorizationId, b.authorizationId].sort());
    for (const n of notices) expect(n).toMatchObject({ reason: 'client_deleted', url: 'https://acme.example/removed' });
    const secrets = await h.t.db.selectFrom('client_secrets').select('id').where('client_id', '=', id).execute();
    expect(secrets).toEqual([]);
  });

  it('records the deletion in the audit log with the client as it was, and no secret', async () => {
    const id = await fresh();
    await install(id, 'Acme Sales');
    await h.call({ method: 'DELETE', url: `/v1/clients/${id}`, headers: { 'if-match': '*' } });
    const log = await h.call({ method: 'GET', url: `/v1/audit-log?target_type=client&target_id=${id}&limit=1` });
    const [entry] = log.json().items;
    expect(entry).toMatchObject({
      action: 'client.delete',
      admin_key_name: 'test-suite',
      admin_key_id: h.adminKeyId,
      target_type: 'client',
      target_id: id,
      after: { ended_authorizations: 1 },
      created_at: expect.stringMatching(ISO_DATE),
    });
    expect(entry.before.client_id).toBe(id);
    expect(JSON.stringify(entry)).not.toMatch(/pocs_|whsec_|secret_hash/);
  });

  it('answers 404 for an unknown client, and for a second delete', async () => {
    const id = await fresh();
    expect((await h.call({ method: 'DELETE', url: `/v1/clients/${id}`, headers: { 'if-match': '*' } })).statusCode).toBe(204);
    const again = await h.call({ method: 'DELETE', url: `/v1/clients/${id}`, headers: { 'if-match': '*' } });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });
});

describe('/v1/clients/:client_id/authorizations', () => {
  it('lists the apps that installed the client: app, granted by, when, scope; paginated', async () => {
    const id = await fresh();
    const a = await install(id, 'Acme Support');
    const b = await install(id, 'Grace Shop', 'grace@example.com');
    const page1 = await h.call({ method: 'GET', url: `/v1/clients/${id}/authorizations?limit=1` });
    expect(page1.statusCode).toBe(200);
    expect(page1.json()).toEqual({
      items: [
        {
          id: a.authorizationId,
          app_id: h.t.ids.apps['Acme Support'],
          app_name: 'Acme Support',
          granted_by: h.t.ids.accounts['ada@example.com'],
          granted_by_email: 'ada@example.com',
          scope: 'app:read',
          granted_at: expect.stringMatching(ISO_DATE),
        },
      ],
      next_cursor: expect.any(String),
    });
    const page2 = await h.call({ method: 'GET', url: `/v1/clients/${id}/authorizations?limit=1&cursor=${page1.json().next_cursor}` });
    expect(page2.json().items.map((x: { id: string }) => x.id)).toEqual([b.authorizationId]);
    expect(page2.json().next_cursor).toBeNull();
  });

  it('ends one authorization (reason admin_removed) and leaves the others', async () => {
    const id = await fresh();
    const a = await install(id, 'Acme Support');
    const b = await install(id, 'Grace Shop', 'grace@example.com');
    const res = await h.call({ method: 'DELETE', url: `/v1/clients/${id}/authorizations/${a.authorizationId}` });
    expect(res.statusCode).toBe(204);
    expect(await findActiveToken(h.t.db, sha256(a.token))).toBeUndefined();
    expect(await findActiveToken(h.t.db, sha256(b.token))).toBeDefined();
    expect(await outbox(id)).toEqual([
      { authorization_id: a.authorizationId, reason: 'admin_removed', url: 'https://acme.example/removed' },
    ]);
    const list = await h.call({ method: 'GET', url: `/v1/clients/${id}/authorizations` });
    expect(list.json().items.map((x: { id: string }) => x.id)).toEqual([b.authorizationId]);
    const again = await h.call({ method: 'DELETE', url: `/v1/clients/${id}/authorizations/${a.authorizationId}` });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ error: 'not_found', message: 'authorization not found' });
  });

  it('answers 404 for another client’s authorization and for an unknown client', async () => {
    const id = await fresh();
    const other = await fresh();
    const a = await install(other, 'Acme Support');
    expect((await h.call({ method: 'DELETE', url: `/v1/clients/${id}/authorizations/${a.authorizationId}` })).statusCode).toBe(404);
    expect(await findActiveToken(h.t.db, sha256(a.token))).toBeDefined();
    const unknown = await h.call({ method: 'GET', url: '/v1/clients/nobody-here/authorizations' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });

  it('refuses a cursor it did not issue', async () => {
    const id = await fresh();
    const res = await h.call({ method: 'GET', url: `/v1/clients/${id}/authorizations?cursor=bm9wZQ` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'cursor: is not a cursor returned by this API' });
  });
});
