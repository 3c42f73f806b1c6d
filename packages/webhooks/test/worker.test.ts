// The outbox worker against real Postgres and a real HTTP receiver: retries, giving up, restarts, several workers.
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer as createNetServer } from 'node:net';
import { FakeClock } from '@partner-oauth/service-kit';
import { claimDueDeliveries, type Db, endAuthorizations, issueToken, openDatabase } from '@partner-oauth/storage';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type DeliveryOutcome,
  type RemovalNotifierOptions,
  startRemovalNotifier,
  verifyWebhookSignature,
  webhookSigningSecret,
} from '../src/index.js';
import { deliveryRow, insertDelivery, memoryLogger, type Receiver, startReceiver, waitFor } from './helpers.js';

const KEY = 'test-webhook-signing-key-0123456789abcdef';
const SECRET = webhookSigningSecret(KEY, 'shoplifter', 1);

let t: TestDatabase;
const receivers: Receiver[] = [];

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
});

// Each test sees only its own rows as pending.
beforeEach(async () => {
  await t.db.updateTable('webhook_deliveries').set({ status: 'failed' }).where('status', '=', 'pending').execute();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await t?.drop();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/** A fake clock just past "now", so rows the database stamped due are due for it too. */
const freshClock = () => new FakeClock(Date.now() + 1_000);

function notifier(opts: Partial<RemovalNotifierOptions> & { clock: FakeClock }) {
  const logger = memoryLogger();
  const worker = startRemovalNotifier({
    db: t.db,
    signingKey: KEY,
    allowLoopback: true,
    logger,
    autoStart: false,
    baseDelayMs: 5,
    maxDelayMs: 50,
    ...opts,
  });
  return { worker, logger };
}

describe('startRemovalNotifier', () => {
  it('retries a partner answering 503 twice, then delivers: one id, every signature valid', async () => {
    const partner = await receiver((_req, i) => (i < 2 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' }));
    await t.db.updateTable('clients').set({ remove_url: partner.url }).where('client_id', '=', 'shoplifter').execute();
    const { authorizationId } = await issueToken(t.db, {
      clientId: 'shoplifter',
      appId: t.ids.apps['Acme Sales'] as string,
      accountId: t.ids.accounts['ada@example.com'] as string,
      scope: 'app:read',
      tokenHash: randomBytes(16).toString('hex'),
      codeHash: null,
    });
    await endAuthorizations(t.db, { authorizationId }, 'partner_revoked', 'req-removal-1');
    const outbox = await t.db.selectFrom('webhook_deliveries').selectAll().where('authorization_id', '=', authorizationId).execute();
    expect(outbox).toHaveLength(1);
    const id = outbox[0]?.id as string;

    const clock = freshClock();
    const { worker, logger } = notifier({ clock, baseDelayMs: 1_000, maxDelayMs: 10_000, random: () => 0.5 });
    expect(await worker.runOnce()).toBe(1);
    let row = await deliveryRow(t.db, id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status: 503, last_error: 'HTTP 503: busy', completed_at: null });
    // Full jitter: half of base * 2^0.
    expect(row.next_attempt_at.getTime()).toBe(clock.now() + 500);
    expect(await worker.runOnce()).toBe(0);

    clock.advance(500);
    expect(await worker.runOnce()).toBe(1);
    row = await deliveryRow(t.db, id);
    expect(row).toMatchObject({ status: 'pending', attempts: 2, last_status: 503 });
    expect(row.next_attempt_at.getTime()).toBe(clock.now() + 1_000);

    clock.advance(1_000);
    expect(await worker.runOnce()).toBe(1);
    row = await deliveryRow(t.db, id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200, last_error: null });
    expect(row.completed_at?.getTime()).toBe(clock.now());
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();

    expect(partner.requests).toHaveLength(3);
    for (const req of partner.requests) {
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/removed');
      expect(req.body).toBe(row.payload);
      expect(req.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'partner-oauth-webhooks/1',
        'x-webhook-id': id,
        'x-request-id': 'req-removal-1',
      });
      expect(verifyWebhookSignature(SECRET, req.headers['x-webhook-signature'] as string, req.body, { now: clock.now() })).toBe(true);
    }
    expect(JSON.parse(row.payload)).toMatchObject({
      type: 'authorization.removed',
      id,
      client_id: 'shoplifter',
      reason: 'partner_revoked',
    });

    expect(logger.lines.map((l) => [l.level, l.obj.event, l.obj.attempt, l.obj.status])).toEqual([
      ['warn', 'webhook.retry', 1, 503],
      ['warn', 'webhook.retry', 2, 503],
      ['info', 'webhook.delivered', 3, 200],
    ]);
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain('v1=');
    expect(logged).not.toContain(KEY);
  });

  it('marks a row failed after maxAttempts when the partner always fails, and keeps only 200 chars of its answer', async () => {
    const partner = await receiver(() => ({ status: 500, body: 'x'.repeat(5_000) }));
    const id = await insertDelivery(t.db, partner.url);
    const clock = freshClock();
    const { worker, logger } = notifier({ clock, maxAttempts: 4 });
    for (let i = 0; i < 4; i++) {
      expect(await worker.runOnce()).toBe(1);
      clock.advance(50);
    }
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();
    const row = await deliveryRow(t.db, id);
    expect(row).toMatchObject({ status: 'failed', attempts: 4, last_status: 500 });
    expect(row.completed_at).not.toBeNull();
    expect(row.last_error?.startsWith('HTTP 500: xxx')).toBe(true);
    expect(row.last_error?.length).toBeLessThanOrEqual(200);
    expect(partner.requests).toHaveLength(4);
    expect(logger.lines.map((l) => l.obj.event)).toEqual(['webhook.retry', 'webhook.retry', 'webhook.retry', 'webhook.failed']);
    expect(logger.lines.at(-1)).toMatchObject({ level: 'error', obj: { id, client_id: 'shoplifter', attempt: 4, status: 500 } });
  });

  it('tells onOutcome each recorded outcome (what token-service counts in its metrics)', async () => {
    const partner = await receiver((_req, i) => (i === 0 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' }));
    const failing = await receiver(() => ({ status: 500, body: 'no' }));
    await insertDelivery(t.db, partner.url);
    const clock = freshClock();
    const outcomes: DeliveryOutcome[] = [];
    const { worker } = notifier({ clock, maxAttempts: 1, onOutcome: (o) => outcomes.push(o) });
    expect(await worker.runOnce()).toBe(1);
    expect(outcomes).toEqual(['failed']);
    await worker.stop();

    await insertDelivery(t.db, failing.url);
    const again = notifier({ clock, maxAttempts: 2, onOutcome: (o) => outcomes.push(o) });
    expect(await again.worker.runOnce()).toBe(1);
    clock.advance(50);
    expect(await again.worker.runOnce()).toBe(1);
    await again.worker.stop();
    expect(outcomes).toEqual(['failed', 'retry', 'failed']);

    await insertDelivery(t.db, partner.url);
    const third = notifier({ clock, onOutcome: (o) => outcomes.push(o) });
    expect(await third.worker.runOnce()).toBe(1);
    await third.worker.stop();
    expect(outcomes).toEqual(['failed', 'retry', 'failed', 'delivered']);
  });

  it('records a timeout and a redirect as failed attempts', async () => {
    const hanging = await receiver(() => 'hang');
    const redirecting = await receiver(() => ({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }));
    const slow = await insertDelivery(t.db, hanging.url);
    const moved = await insertDelivery(t.db, redirecting.url);
    const clock = freshClock();
    const { worker } = notifier({ clock, timeoutMs: 100, leaseMs: 1_000 });
    expect(await worker.runOnce()).toBe(2);
    await worker.stop();
    expect(await deliveryRow(t.db, slow)).toMatchObject({ status: 'pending', attempts: 1, last_status: null, last_error: 'timeout' });
    expect(await deliveryRow(t.db, moved)).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_status: 302,
      last_error: 'HTTP 302: redirect not followed',
    });
    expect(redirecting.requests).toHaveLength(1);
  });

  it('delivers, after a restart, a row left pending by a stopped worker', async () => {
    const partner = await receiver((_req, i) => (i === 0 ? { status: 503 } : { status: 204 }));
    const id = await insertDelivery(t.db, partner.url);
    const clock = freshClock();
    const first = notifier({ clock });
    expect(await first.worker.runOnce()).toBe(1);
    await first.worker.stop();
    expect(await first.worker.runOnce()).toBe(0);
    expect(await deliveryRow(t.db, id)).toMatchObject({ status: 'pending', attempts: 1 });

    clock.advance(50);
    const second = notifier({ clock });
    expect(await second.worker.runOnce()).toBe(1);
    await second.worker.stop();
    expect(await deliveryRow(t.db, id)).toMatchObject({ status: 'delivered', attempts: 2, last_status: 204 });
    expect(partner.requests.map((r) => r.headers['x-webhook-id'])).toEqual([id, id]);
  });

  it('retries, once the lease ends, rows claimed by a worker that died before recording them', async () => {
    const partner = await receiver(() => ({ status: 200 }));
    const id = await insertDelivery(t.db, partner.url);
    const clock = freshClock();
    const claimed = await claimDueDeliveries(t.db, { now: new Date(clock.now()), leaseUntil: new Date(clock.now() + 60_000), limit: 100 });
    expect(claimed.map((r) => r.id)).toContain(id);

    const { worker } = notifier({ clock });
    expect(await worker.runOnce()).toBe(0);
    clock.advance(60_000);
    expect(await worker.runOnce()).toBe(claimed.length);
    await worker.stop();
    expect(await deliveryRow(t.db, id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('does not record a stale outcome over a row another worker claimed after the lease ended', async () => {
    const partner = await receiver(() => ({ status: 200 }));
    const id = await insertDelivery(t.db, partner.url);
    const clock = freshClock();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const slowFetch: typeof fetch = async (input, init) => {
      await held;
      return fetch(input, init);
    };
    const stale = notifier({ clock, fetchImpl: slowFetch, leaseMs: 10_000 });
    const staleTick = stale.worker.runOnce();
    await waitFor(async () => (await deliveryRow(t.db, id)).next_attempt_at.getTime() > clock.now());

    clock.advance(10_000);
    const fresh = notifier({ clock });
    expect(await fresh.worker.runOnce()).toBe(1);
    release();
    expect(await staleTick).toBe(1);
    await Promise.all([stale.worker.stop(), fresh.worker.stop()]);

    expect(await deliveryRow(t.db, id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(stale.logger.lines.map((l) => l.obj.event)).toEqual(['webhook.lease_lost']);
    expect(fresh.logger.lines.map((l) => l.obj.event)).toEqual(['webhook.delivered']);
  });

  it('stop() waits for the delivery in flight and records it', async () => {
    const partner = await receiver(() => ({ status: 200, delayMs: 200 }));
    const id = await insertDelivery(t.db, partner.url);
    const worker = startRemovalNotifier({ db: t.db, signingKey: KEY, allowLoopback: true, logger: memoryLogger(), pollIntervalMs: 10 });
    await waitFor(async () => partner.requests.some((r) => r.headers['x-webhook-id'] === id));
    await worker.stop();
    expect(await deliveryRow(t.db, id)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('two workers with their own pools deliver each of 30 rows exactly once', async () => {
    const partner = await receiver(() => ({ status: 200, delayMs: 5 }));
    const ids = new Set<string>();
    for (let i = 0; i < 30; i++) ids.add(await insertDelivery(t.db, partner.url));
    const pools: Db[] = [await openDatabase({ databaseUrl: t.url, poolSize: 3 }), await openDatabase({ databaseUrl: t.url, poolSize: 3 })];
    const loggers = pools.map(() => memoryLogger());
    const workers = pools.map((db, i) =>
      startRemovalNotifier({
        db,
        signingKey: KEY,
        allowLoopback: true,
        logger: loggers[i] as ReturnType<typeof memoryLogger>,
        pollIntervalMs: 5,
        batchSize: 3,
      }),
    );
    try {
      await waitFor(async () => {
        const left = await t.db
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('status', '=', 'pending')
          .executeTakeFirstOrThrow();
        return Number(left.n) === 0;
      });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(pools.map((db) => db.destroy()));
    }
    const hits = new Map<string, number>();
    for (const req of partner.requests) {
      const id = req.headers['x-webhook-id'] as string;
      hits.set(id, (hits.get(id) ?? 0) + 1);
    }
    expect([...hits.keys()].sort()).toEqual([...ids].sort());
    expect([...hits.values()].every((n) => n === 1)).toBe(true);
    const rows = await t.db
      .selectFrom('webhook_deliveries')
      .select(['status', 'attempts'])
      .where('id', 'in', [...ids])
      .execute();
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    const delivered = loggers.flatMap((l) => l.lines.filter((x) => x.obj.event === 'webhook.delivered'));
    expect(delivered).toHaveLength(30);
  });
});

describe('startRemovalNotifier while Postgres is unreachable', () => {
  it('backs off (capped exponential), logs down once and up once, and reports both changes', async () => {
    // A Postgres that resets every connection, until `up` forwards them to the real one.
    let up = false;
    let attempts = 0;
    const gate = createNetServer((client) => {
      attempts++;
      if (!up) return client.destroy();
      const upstream = connect(5432, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const url = new URL(t.url);
    url.host = `127.0.0.1:${(gate.address() as AddressInfo).port}`;
    const db = await openDatabase({ databaseUrl: url.toString(), poolSize: 1 });
    const logger = memoryLogger();
    const changes: boolean[] = [];
    const worker = startRemovalNotifier({
      db,
      signingKey: KEY,
      logger,
      pollIntervalMs: 10,
      maxTickBackoffMs: 160,
      onHealthChange: (state) => changes.push(state),
    });
    try {
      await new Promise((r) => setTimeout(r, 1_200));
      // Without backoff a 10 ms poll makes ~100 attempts in 1.2 s; 20, 40, 80, then 160 ms apart makes about 10.
      expect(attempts).toBeGreaterThan(3);
      expect(attempts).toBeLessThan(20);
      expect(changes).toEqual([false]);
      up = true;
      await waitFor(async () => changes.length === 2, 5_000);
      expect(changes).toEqual([false, true]);
      const events = logger.lines.map((l) => [l.level, l.obj.event]);
      expect(events.filter(([, e]) => e === 'webhook.worker_down')).toEqual([['error', 'webhook.worker_down']]);
      expect(events.filter(([, e]) => e === 'webhook.worker_up')).toEqual([['info', 'webhook.worker_up']]);
      expect(events.filter(([, e]) => e === 'webhook.tick_failed')).toEqual([]);
    } finally {
      await worker.stop();
      await db.destroy();
      gate.close();
    }
  });
});
