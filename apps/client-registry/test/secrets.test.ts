// Client secrets and the webhook secret: rotation with overlap, listing without values, revocation.

import { sha256 } from '@partner-oauth/service-kit';
import { liveSecretHashes, webhookSecretVersions } from '@partner-oauth/storage';
import { webhookSigningSecret } from '@partner-oauth/webhooks';
import { describe, expect, it } from 'vitest';
import { ISO_DATE, useApp, validClient, WEBHOOK_SIGNING_KEY } from './helpers.js';

const h = useApp();
const HOUR = 3600_000;

async function fresh(): Promise<{ id: string; secret: string }> {
  const res = await h.call({ method: 'POST', url: '/v1/clients', payload: validClient });
  return { id: res.json().client_id, secret: res.json().client_secret };
}

const live = async (id: string, at = new Date()) => (await liveSecretHashes(h.t.db, id, at)).map((s) => s.secret_hash);

describe('POST /v1/clients/:client_id/secrets (rotation)', () => {
  it('issues a new secret once, and keeps the old one working for 24 hours by default', async () => {
    const { id, secret: old } = await fresh();
    const before = Date.now();
    const res = await h.call({ method: 'POST', url: `/v1/clients/${id}/secrets`, payload: {} });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(String),
      client_secret: expect.stringMatching(/^pocs_[A-Za-z0-9_-]{43}$/),
      created_at: expect.stringMatching(ISO_DATE),
      expires_at: null,
      revoked_at: null,
      last_used_at: null,
      active: true,
      previous_secrets_expire_at: expect.stringMatching(ISO_DATE),
    });
    const expiry = Date.parse(body.previous_secrets_expire_at) - before;
    expect(expiry).toBeGreaterThanOrEqual(24 * HOUR - 1000);
    expect(expiry).toBeLessThanOrEqual(24 * HOUR + 5000);
    expect(await live(id)).toEqual(expect.arrayContaining([sha256(old), sha256(body.client_secret)]));
    expect(await live(id, new Date(Date.now() + 25 * HOUR))).toEqual([sha256(body.client_secret)]);
  });

  it('ends the old secret at once with old_secret_expires_in: 0', async () => {
    const { id } = await fresh();
    const res = await h.call({ method: 'POST', url: `/v1/clients/${id}/secrets`, payload: { old_secret_expires_in: 0 } });
    expect(res.statusCode).toBe(201);
    expect(await live(id)).toEqual([sha256(res.json().client_secret)]);
  });

  it.each([
    [{ old_secret_expires_in: -1 }, 'old_secret_expires_in: must be >= 0'],
    [{ old_secret_expires_in: 30 * 24 * 3600 + 1 }, 'old_secret_expires_in: must be <= 2592000'],
    [{ old_secret_expires_in: '60' }, 'old_secret_expires_in: must be integer'],
    [{ secret: 'mine' }, 'secret: is not a known field'],
  ])('refuses %j', async (payload, message) => {
    const { id } = await fresh();
    const res = await h.call({ method: 'POST', url: `/v1/clients/${id}/secrets`, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
    expect(res.json().message).toBe(message);
  });

  it('answers 404 for an unknown client', async () => {
    const res = await h.call({ method: 'POST', url: '/v1/clients/nobody-here/secrets', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'client not found' });
  });
});

describe('GET and DELETE /v1/clients/:client_id/secrets', () => {
  it('lists every secret with its dates and state, never a value or hash', async () => {
    const { id, secret } = await fresh();
    await h.t.db
      .updateTable('client_secrets')
      .set({ last_used_at: new Date('2026-11-01T00:00:00Z') })
      .where('client_id', '=', id)
      .execute();
    const rotated = (await h.call({ method: 'POST', url: `/v1/clients/${id}/secrets`, payload: { old_secret_expires_in: 0 } })).json();
    const res = await h.call({ method: 'GET', url: `/v1/clients/${id}/secrets` });
    expect(res.statusCode).toBe(200);
    const items = res.json().items;
    expect(items).toHaveLength(2);
    expect(items[0]).toEqual({
      id: expect.any(String),
      created_at: expect.stringMatching(ISO_DATE),
      expires_at: expect.stringMatching(ISO_DATE),
      revoked_at: null,
      last_used_at: '2026-11-01T00:00:00.000Z',
      active: false,
    });
    expect(items[1]).toMatchObject({ id: rotated.id, active: true, expires_at: null });
    expect(res.body).not.toContain(secret);
    expect(res.body).not.toContain(rotated.client_secret);
    expect(res.body).not.toContain(sha256(secret));
  });

  it('revokes one secret; refuses to revoke the only working one (409)', async () => {
    const { id, secret } = await fresh();
    const [only] = (await h.call({ method: 'GET', url: `/v1/clients/${id}/secrets` })).json().items;
    const refused = await h.call({ method: 'DELETE', url: `/v1/clients/${id}/secrets/${only.id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({
      error: 'conflict',
      message: 'secret_id: is the client’s only working secret; rotate first, or disable the client',
    });
    const rotated = (await h.call({ method: 'POST', url: `/v1/clients/${id}/secrets`, payload: {} })).json();
    const res = await h.call({ method: 'DELETE', url: `/v1/clients/${id}/secrets/${only.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: only.id, revoked_at: expect.stringMatching(ISO_DATE), active: false });
    expect(await live(id)).toEqual([sha256(rotated.client_secret)]);
    expect(await live(id)).not.toContain(sha256(secret));
  });

  it('answers 404 for a secret of another client', async () => {
    const a = await fresh();
    const b = await fresh();
    const [secretOfB] = (await h.call({ method: 'GET', url: `/v1/clients/${b.id}/secrets` })).json().items;
    const res = await h.call({ method: 'DELETE', url: `/v1/clients/${a.id}/secrets/${secretOfB.id}` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'secret not found' });
  });
});

describe('POST /v1/clients/:client_id/webhook-secret', () => {
  it('shows the next version once and keeps signing with the previous one during the overlap', async () => {
    const { id } = await fresh();
    const res = await h.call({ method: 'POST', url: `/v1/clients/${id}/webhook-secret`, payload: { old_secret_expires_in: 3600 } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      webhook_secret: webhookSigningSecret(WEBHOOK_SIGNING_KEY, id, 2),
      webhook_secret_version: 2,
      previous_secret_expires_at: expect.stringMatching(ISO_DATE),
    });
    expect(await webhookSecretVersions(h.t.db, id, new Date())).toEqual({ secret_version: 2, previous_secret_version: 1 });
    expect(await webhookSecretVersions(h.t.db, id, new Date(Date.now() + 2 * HOUR))).toEqual({
      secret_version: 2,
      previous_secret_version: null,
    });
  });

  it('drops the previous one at once with 0', async () => {
    const { id } = await fresh();
    const res = await h.call({ method: 'POST', url: `/v1/clients/${id}/webhook-secret`, payload: { old_secret_expires_in: 0 } });
    expect(res.json().previous_secret_expires_at).toBeNull();
    expect(await webhookSecretVersions(h.t.db, id, new Date())).toEqual({ secret_version: 2, previous_secret_version: null });
  });

  it('audits the rotation without the secret', async () => {
    const { id } = await fresh();
    const res = await h.call({ method: 'POST', url: `/v1/clients/${id}/webhook-secret`, payload: {} });
    const log = await h.call({ method: 'GET', url: `/v1/audit-log?target_type=webhook_secret&target_id=${id}` });
    expect(log.json().items).toHaveLength(1);
    expect(log.json().items[0]).toMatchObject({
      action: 'webhook_secret.rotate',
      before: { webhook_secret_version: 1 },
      after: { webhook_secret_version: 2 },
    });
    expect(log.body).not.toContain(res.json().webhook_secret);
  });
});
