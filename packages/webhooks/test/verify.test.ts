// The partner-side signature check: what passes and what must not.
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature, webhookSigningSecret } from '../src/index.js';

const secret = webhookSigningSecret('test-webhook-signing-key-0123456789abcdef', 'shoplifter', 1);
const body = JSON.stringify({ type: 'authorization.removed', id: 'abc', client_id: 'shoplifter', app_id: 'app', reason: 'admin_removed' });
const t = 1_800_000_000;
const now = t * 1000 + 2_000;

describe('verifyWebhookSignature', () => {
  it('accepts the signature the sender makes, over a string or the raw bytes', () => {
    const header = signWebhook(secret, t, body);
    expect(verifyWebhookSignature(secret, header, body, { now })).toBe(true);
    expect(verifyWebhookSignature(secret, header, Buffer.from(body), { now })).toBe(true);
  });

  it('rejects a tampered body', () => {
    const header = signWebhook(secret, t, body);
    expect(verifyWebhookSignature(secret, header, body.replace('admin_removed', 'owner_removed'), { now })).toBe(false);
    expect(verifyWebhookSignature(secret, header, `${body} `, { now })).toBe(false);
  });

  it('rejects a signature made with another secret (other client, other version)', () => {
    const other = webhookSigningSecret('test-webhook-signing-key-0123456789abcdef', 'shoplifter', 2);
    expect(verifyWebhookSignature(secret, signWebhook(other, t, body), body, { now })).toBe(false);
    expect(verifyWebhookSignature(other, signWebhook(secret, t, body), body, { now })).toBe(false);
  });

  it('rejects a stale or far-future timestamp, and a timestamp changed after signing', () => {
    const header = signWebhook(secret, t, body);
    expect(verifyWebhookSignature(secret, header, body, { now: (t + 301) * 1000 })).toBe(false);
    expect(verifyWebhookSignature(secret, header, body, { now: (t + 299) * 1000 })).toBe(true);
    expect(verifyWebhookSignature(secret, header, body, { now: (t - 301) * 1000 })).toBe(false);
    expect(verifyWebhookSignature(secret, header, body, { now: (t + 3_000) * 1000, toleranceSeconds: 3_600 })).toBe(true);
    expect(verifyWebhookSignature(secret, header.replace(`t=${t}`, `t=${t + 1}`), body, { now })).toBe(false);
  });

  it('rejects malformed headers', () => {
    const mac = signWebhook(secret, t, body).split('v1=')[1] as string;
    for (const header of [
      undefined,
      null,
      '',
      'garbage',
      `v1=${mac}`,
      `t=${t}`,
      `t=abc,v1=${mac}`,
      `t=${t},v1=${mac.slice(2)}`,
      `t=${t},t=${t},v1=${mac}`,
    ]) {
      expect(verifyWebhookSignature(secret, header, body, { now })).toBe(false);
    }
  });

  it('accepts the header when any one of several v1 signatures matches (rotation)', () => {
    const old = webhookSigningSecret('test-webhook-signing-key-0123456789abcdef', 'shoplifter', 0);
    const mac = signWebhook(secret, t, body).split('v1=')[1] as string;
    const oldMac = signWebhook(old, t, body).split('v1=')[1] as string;
    expect(verifyWebhookSignature(secret, `t=${t},v1=${oldMac},v1=${mac}`, body, { now })).toBe(true);
  });
});
