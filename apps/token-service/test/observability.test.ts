// token-service health and metrics: readiness per dependency, and the domain counters moved by real exchanges.
import { type CodeGrant, CodeStore, openEphemeralStore } from '@partner-oauth/ephemeral-store';
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { openDatabase } from '@partner-oauth/storage';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, loadTokenServiceConfig } from '../src/index.js';

let t: TestDatabase;
const redis = createTestRedis();
let app: FastifyInstance;
let grant: CodeGrant;

const config = (databaseUrl: string) =>
  loadTokenServiceConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redis.url, LOG_LEVEL: 'silent', WEBHOOK_WORKER: 'false' });

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  app = await buildApp({ config: config(t.url), db: t.db, store: redis.store, logger: false });
  grant = {
    clientId: 'shoplifter',
    appId: t.ids.apps['Acme Sales'] as string,
    accountId: t.ids.accounts['ada@example.com'] as string,
    redirectUri: 'http://localhost:4000/callback',
    redirectUriSent: false,
    scope: 'app:read',
  };
});
afterAll(async () => {
  await app.close();
  await redis.cleanup();
  await t.drop();
});

const exchange = (code: string) =>
  app.inject({
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
    const res = await app.inject('/health/ready');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' } });
  });

  it('is 503 naming redis when Redis cannot be reached, while liveness stays 200', async () => {
    const deadRedis = openEphemeralStore({ redisUrl: 'redis://127.0.0.1:1', keyPrefix: redis.keyPrefix });
    const broken = await buildApp({ config: config(t.url), db: t.db, store: deadRedis, logger: false });
    try {
      const res = await broken.inject('/health/ready');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'failed', migrations: 'ok' } });
      expect((await broken.inject('/health/live')).statusCode).toBe(200);
    } finally {
      await broken.close();
      await deadRedis.close();
    }
  });

  it('is 503 naming postgres and migrations when Postgres cannot be reached', async () => {
    const deadDb = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing' });
    const broken = await buildApp({ config: config(t.url), db: deadDb, store: redis.store, logger: false });
    try {
      const res = await broken.inject('/health/ready');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'failed', redis: 'ok', migrations: 'failed' } });
    } finally {
      await broken.close();
      await deadDb.destroy();
    }
  });
});

describe('metrics', () => {
  it('counts a redeemed code, the token issued, the replay refused and the token it revoked', async () => {
    const before = (await app.inject('/metrics')).body;
    const code = await new CodeStore(redis.store).issue(grant);
    expect((await exchange(code)).statusCode).toBe(200);
    expect((await exchange(code)).statusCode).toBe(400);
    expect((await exchange('never-issued')).statusCode).toBe(400);
    const res = await app.inject('/metrics');
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
