// Throttling of failed client authentication and refused codes; removal notices delivered by the app's worker.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodeStore } from '@partner-oauth/ephemeral-store';
import { addTestClient } from '@partner-oauth/storage/testing';
import { verifyWebhookSignature, webhookSigningSecret } from '@partner-oauth/webhooks';
import { describe, expect, it } from 'vitest';
import { useApp } from './helpers.js';

const SIGNING_KEY = 'test-webhook-signing-key-0123456789abcdef';
const h = useApp({
  env: { WEBHOOK_WORKER: 'true', CLIENT_AUTH_FAILURES_PER_MINUTE: '3', INVALID_GRANTS_PER_MINUTE: '4', WEBHOOK_SIGNING_KEY: SIGNING_KEY },
});

const ATTACKER = '192.0.2.66';
const post = (url: string, fields: Record<string, string>, remoteAddress = '127.0.0.1') =>
  h.app.inject({
    method: 'POST',
    url,
    remoteAddress,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

describe('throttling', () => {
  it('refuses a client id from an address after repeated failed authentications, with 429 and Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const guess = { grant_type: 'authorization_code', code: 'x', client_id: 'shoplifter', client_secret: 'guess' };
      expect((await post('/oauth/token', guess, ATTACKER)).statusCode).toBe(401);
    }
    const res = await post(
      '/oauth/token',
      { grant_type: 'authorization_code', code: 'x', client_id: 'shoplifter', client_secret: 'secret' },
      ATTACKER,
    );
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'too many failed attempts; retry later' });
    const revoke = await post('/oauth/revoke', { token: 'x', client_id: 'shoplifter', client_secret: 'secret' }, ATTACKER);
    expect(revoke.statusCode).toBe(429);
    // The same client from its own address is not locked out by the attacker.
    expect((await post('/oauth/revoke', { token: 'x', client_id: 'shoplifter', client_secret: 'secret' })).statusCode).toBe(200);
  });
});

describe('code brute force', () => {
  it('slows a client that keeps presenting codes that do not exist', async () => {
    await addTestClient(h.t.db, 'prober', { client_name: 'Prober', redirect_uris: ['https://p.example/cb'], secret: 'p-secret' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (
          await post('/oauth/token', {
            grant_type: 'authorization_code',
            code: `guess-${i}`,
            client_id: 'prober',
            client_secret: 'p-secret',
          })
        ).statusCode,
      );
    }
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
  });

  it('slows a client that keeps presenting refresh tokens that do not rotate, and one blocked by failed authentications', async () => {
    await addTestClient(h.t.db, 'refresh-prober', { expiring_tokens: true, secret: 'rp-secret' });
    const refresh = (secret: string, remoteAddress?: string) =>
      post(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: `port_${'A'.repeat(43)}`, client_id: 'refresh-prober', client_secret: secret },
        remoteAddress,
      );
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await refresh('rp-secret')).statusCode);
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
    // From an address whose failed authentications reached the limit, refused before the refused-grants count is told.
    await addTestClient(h.t.db, 'refresh-guessed', { expiring_tokens: true, secret: 'rg-secret' });
    const guessed = (secret: string) =>
      post(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: `port_${'A'.repeat(43)}`, client_id: 'refresh-guessed', client_secret: secret },
        ATTACKER,
      );
    for (let i = 0; i < 3; i++) expect((await guessed('guess')).statusCode).toBe(401);
    const blocked = await guessed('rg-secret');
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('removal notifications', () => {
  it('the app’s worker POSTs a signed notice to the partner’s remove_url when the partner revokes access', async () => {
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    let calls = 0;
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        calls++;
        received.push({ headers: req.headers, body });
        // The partner is down for its first attempt.
        res.statusCode = calls === 1 ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/removed`;
    try {
      await h.t.db.updateTable('clients').set({ remove_url: url }).where('client_id', '=', 'shoplifter').execute();
      const appId = h.t.ids.apps['Grace Shop'] as string;
      const code = await new CodeStore(h.redis.store).issue({
        clientId: 'shoplifter',
        appId,
        accountId: h.t.ids.accounts['grace@example.com'] as string,
        redirectUri: 'http://localhost:4000/callback',
        redirectUriSent: false,
        scope: 'app:read',
      });
      const token = (
        await post('/oauth/token', { grant_type: 'authorization_code', code, client_id: 'shoplifter', client_secret: 'secret' })
      ).json().access_token;
      const res = await h.app.inject({
        method: 'DELETE',
        url: '/oauth/authorization',
        headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-remove-1' },
      });
      expect(res.statusCode).toBe(200);
      // The first attempt fails; the retry (2 s base backoff with jitter) succeeds.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const row = await h.t.db
          .selectFrom('webhook_deliveries')
          .select(['status', 'attempts'])
          .where('app_id', '=', appId)
          .executeTakeFirst();
        if (row?.status === 'delivered') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const row = await h.t.db.selectFrom('webhook_deliveries').selectAll().where('app_id', '=', appId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'delivered', attempts: 2, last_status: 204 });
      expect(received).toHaveLength(2);
      const last = received[1] as { headers: IncomingMessage['headers']; body: string };
      expect(JSON.parse(last.body)).toMatchObject({
        type: 'authorization.removed',
        client_id: 'shoplifter',
        app_id: appId,
        reason: 'partner_revoked',
      });
      const secret = webhookSigningSecret(SIGNING_KEY, 'shoplifter', 1);
      expect(verifyWebhookSignature(secret, last.headers['x-webhook-signature'] as string, last.body)).toBe(true);
      expect(last.headers['x-request-id']).toBe('req-remove-1');
      // The worker reports each outcome; the service counts them (webhooks' onOutcome, not its log lines).
      const metrics = (await h.app.inject('/metrics')).body;
      expect(metrics).toContain('webhook_deliveries_total{outcome="retry",service="token-service"} 1');
      expect(metrics).toContain('webhook_deliveries_total{outcome="delivered",service="token-service"} 1');
    } finally {
      receiver.close();
    }
  }, 30_000);
});
