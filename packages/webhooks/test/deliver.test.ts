// One delivery attempt against a real HTTP receiver: headers, signature, and what counts as failure.
import { afterAll, describe, expect, it } from 'vitest';
import { type DeliverableRow, deliverOne, verifyWebhookSignature, webhookSigningSecret } from '../src/index.js';
import { type Receiver, startReceiver } from './helpers.js';

const KEY = 'test-webhook-signing-key-0123456789abcdef';
const receivers: Receiver[] = [];

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

const row = (url: string, overrides: Partial<DeliverableRow> = {}): DeliverableRow => ({
  id: 'd0c5e7a2-0000-4000-8000-000000000001',
  client_id: 'shoplifter',
  url,
  secret_version: 3,
  payload: '{"type":"authorization.removed","id":"d0c5e7a2-0000-4000-8000-000000000001"}',
  request_id: 'req-42',
  ...overrides,
});

describe('deliverOne', () => {
  it('POSTs the stored body with exactly the documented headers, signed with the derived secret', async () => {
    const partner = await receiver(() => ({ status: 204 }));
    const result = await deliverOne(row(partner.url), { signingKey: KEY, allowLoopback: true, nowSeconds: 1_800_000_000 });
    expect(result).toEqual({ ok: true, status: 204 });
    const [req] = partner.requests;
    expect(req?.body).toBe(row(partner.url).payload);
    expect(req?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'partner-oauth-webhooks/1',
      'x-webhook-id': 'd0c5e7a2-0000-4000-8000-000000000001',
      'x-request-id': 'req-42',
    });
    const signature = req?.headers['x-webhook-signature'] as string;
    expect(signature).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    const secret = webhookSigningSecret(KEY, 'shoplifter', 3);
    expect(verifyWebhookSignature(secret, signature, req?.body ?? '', { now: 1_800_000_000_000 })).toBe(true);
    expect(verifyWebhookSignature(webhookSigningSecret(KEY, 'shoplifter', 2), signature, req?.body ?? '', { now: 1_800_000_000_000 })).toBe(
      false,
    );
  });

  it('signs with the current and the previous webhook secret during a rotation overlap', async () => {
    const partner = await receiver(() => ({ status: 204 }));
    const result = await deliverOne(row(partner.url, { secret_version: 4, previous_secret_version: 3 }), {
      signingKey: KEY,
      allowLoopback: true,
      nowSeconds: 1_800_000_000,
    });
    expect(result).toEqual({ ok: true, status: 204 });
    const [req] = partner.requests;
    const signature = req?.headers['x-webhook-signature'] as string;
    expect(signature).toMatch(/^t=1800000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    const verify = (version: number) =>
      verifyWebhookSignature(webhookSigningSecret(KEY, 'shoplifter', version), signature, req?.body ?? '', { now: 1_800_000_000_000 });
    expect([verify(4), verify(3), verify(2), verify(5)]).toEqual([true, true, false, false]);
  });

  it('signs once when there is no previous version, or it equals the current one', async () => {
    const partner = await receiver(() => ({ status: 204 }));
    await deliverOne(row(partner.url, { previous_secret_version: null }), {
      signingKey: KEY,
      allowLoopback: true,
      nowSeconds: 1_800_000_000,
    });
    await deliverOne(row(partner.url, { previous_secret_version: 3 }), { signingKey: KEY, allowLoopback: true, nowSeconds: 1_800_000_000 });
    for (const req of partner.requests) expect(req.headers['x-webhook-signature']).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(partner.requests).toHaveLength(2);
  });

  it('sends no x-request-id when the row has none', async () => {
    const partner = await receiver(() => ({ status: 200 }));
    expect(await deliverOne(row(partner.url, { request_id: null }), { signingKey: KEY, allowLoopback: true })).toEqual({
      ok: true,
      status: 200,
    });
    expect(partner.requests[0]?.headers).not.toHaveProperty('x-request-id');
  });

  it('treats a 3xx as a failure and does not follow it', async () => {
    const target = await receiver(() => ({ status: 200 }));
    const partner = await receiver(() => ({ status: 307, headers: { location: target.url } }));
    expect(await deliverOne(row(partner.url), { signingKey: KEY, allowLoopback: true })).toEqual({
      ok: false,
      status: 307,
      error: 'HTTP 307: redirect not followed',
    });
    expect(target.requests).toHaveLength(0);
  });

  it('times out a partner that never answers', async () => {
    const partner = await receiver(() => 'hang');
    const started = Date.now();
    expect(await deliverOne(row(partner.url), { signingKey: KEY, allowLoopback: true, timeoutMs: 150 })).toEqual({
      ok: false,
      error: 'timeout',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a refused connection without a status', async () => {
    const partner = await receiver(() => ({ status: 200 }));
    await partner.close();
    const result = await deliverOne(row(partner.url), { signingKey: KEY, allowLoopback: true });
    expect(result.ok).toBe(false);
    expect(result).not.toHaveProperty('status');
    expect(!result.ok && result.error).toMatch(/^ECONNREFUSED/);
  });

  it('keeps at most 200 characters of an error response', async () => {
    const partner = await receiver(() => ({ status: 500, body: `oops ${'y'.repeat(100_000)}` }));
    const result = await deliverOne(row(partner.url), { signingKey: KEY, allowLoopback: true });
    expect(result).toMatchObject({ ok: false, status: 500 });
    const error = result.ok ? '' : result.error;
    expect(error.startsWith('HTTP 500: oops yyy')).toBe(true);
    expect(error.length).toBeLessThanOrEqual(200);
  });

  it('counts 4xx as failure with the status alone when the body is empty', async () => {
    const partner = await receiver(() => ({ status: 410 }));
    expect(await deliverOne(row(partner.url), { signingKey: KEY, allowLoopback: true })).toEqual({
      ok: false,
      status: 410,
      error: 'HTTP 410',
    });
  });
});
