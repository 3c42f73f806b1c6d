// token-service health and metrics: readiness per dependency, and the domain counters moved by real exchanges.
import { CodeStore, openEphemeralStore } from '@partner-oauth/ephemeral-store';
import { openDatabase } from '@partner-oauth/storage';
import { describe, expect, it } from 'vitest';
import { buildApp, loadTokenServiceConfig } from '../src/index.js';
import { useApp } from './helpers.js';

const h = useApp();
const config = (databaseUrl: string) =>
  loadTokenServiceConfig({ DATABASE_URL: databaseUrl, REDIS_URL: h.redis.url, LOG_LEVEL: 'silent', WEBHOOK_WORKER: 'false' });

const exchange = (code: string) =>
  h.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'secret', code }).toString(),
  });

function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('readiness', () => {
  it('is ready when Postgres answers, Redis answers and every migration is applied', async () => {
    const res = await h.app.inject('/health/ready');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' } });
  });

  // docs/operations.md "Readiness": a shared store's outage must not make every pod unready at once (the ingress
  // would answer its generic 503); the pod stays routable and gives the designed 503 / temporarily_unavailable.
  it('stays 200 (degraded) naming redis when Redis cannot be reached, while liveness stays 200', async () => {
    const deadRedis = openEphemeralStore({ redisUrl: 'redis://127.0.0.1:1', keyPrefix: h.redis.keyPrefix });
    const broken = await buildApp({ config: config(h.t.url), db: h.t.db, store: deadRedis, logger: false });
    try {
      const res = await broken.inject('/health/ready');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'degraded', checks: { postgres: 'ok', redis: 'failed', migrations: 'ok' } });
      expect((await broken.inject('/health/live')).statusCode).toBe(200);
    } finally {
      await broken.close();
      await deadRedis.close();
    }
  });

  // Regression: migrations were reported failed beside postgres, sending the runbook to the migration job.
  it('names postgres, not migrations, when Postgres cannot be reached; 503 until the schema was ever checked', async () => {
    const deadDb = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing' });
    const broken = await buildApp({ config: config(h.t.url), db: deadDb, store: h.redis.store, logger: false });
    try {
      const res = await broken.inject('/health/ready');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'failed', redis: 'ok', migrations: 'unknown' } });
      const metrics = (await broken.inject('/metrics')).body;
      expect(metric(metrics, 'dependency_up{dependency="postgres",service="token-service"}')).toBe(0);
      expect(metrics).not.toContain('dependency_up{dependency="migrations"');
    } finally {
      await broken.close();
      await deadDb.destroy();
    }
  });
});

describe('metrics', () => {
  it('counts a redeemed code, the token issued, the replay refused and the token it revoked', async () => {
    const before = (await h.app.inject('/metrics')).body;
    const code = await new CodeStore(h.redis.store).issue(h.grant);
    expect((await exchange(code)).statusCode).toBe(200);
    expect((await exchange(code)).statusCode).toBe(400);
    expect((await exchange('never-issued')).statusCode).toBe(400);
    const res = await h.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    const after = res.body;
    const delta = (series: string) => metric(after, series) - metric(before, series);
    expect(delta('oauth_codes_redeemed_total{service="token-service"}')).toBe(1);
    expect(delta('oauth_tokens_issued_total{service="token-service"}')).toBe(1);
    expect(metric(after, 'oauth_codes_refused_total{reason="replayed",service="token-service"}')).toBe(1);
    expect(metric(after, 'oauth_codes_refused_total{reason="invalid",service="token-service"}')).toBe(1);
    expect(metric(after, 'oauth_tokens_revoked_total{by="replay",service="token-service"}')).toBe(1);
    expect(
      metric(after, 'http_request_duration_seconds_count{service="token-service",method="POST",route="/oauth/token",status_code="400"}'),
    ).toBe(2);
    expect(metric(after, 'dependency_up{dependency="redis",service="token-service"}')).toBe(1);
  });
});

describe('capacity and backlog gauges (issue 17 item 5)', () => {
  it('reports the outbox backlog, the Postgres pool and the heap limit on /metrics', async () => {
    const before = (await h.app.inject('/metrics')).body;
    expect(metric(before, 'webhook_outbox_pending{service="token-service"}')).toBe(0);
    expect(metric(before, 'webhook_outbox_oldest_seconds{service="token-service"}')).toBe(0);
    // Started at 0, so the first event of a pod is an increase Prometheus sees.
    expect(metric(before, 'webhook_deliveries_total{outcome="failed",service="token-service"}')).toBe(0);
    expect(metric(before, 'db_pool_clients{state="waiting",service="token-service"}')).toBe(0);
    expect(metric(before, 'nodejs_heap_size_limit_bytes{service="token-service"}')).toBeGreaterThan(100 * 1024 * 1024);

    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await h.t.db
      .insertInto('webhook_deliveries')
      .values({
        id: 'wd_backlog_1',
        client_id: 'shoplifter',
        app_id: h.grant.appId,
        authorization_id: 'auth_backlog_1',
        reason: 'test',
        url: 'https://partner.example/remove',
        secret_version: 1,
        payload: '{}',
        created_at: twoHoursAgo,
      })
      .execute();
    const after = (await h.app.inject('/metrics')).body;
    expect(metric(after, 'webhook_outbox_pending{service="token-service"}')).toBe(1);
    expect(metric(after, 'webhook_outbox_oldest_seconds{service="token-service"}')).toBeGreaterThanOrEqual(7200);
    await h.t.db.deleteFrom('webhook_deliveries').where('id', '=', 'wd_backlog_1').execute();
  });
});
