// The health and metrics plugin: liveness, readiness checks and draining, per-route and domain metrics.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { drainAndClose, observabilityPlugin, type ReadinessCheck, reportOnly } from '../src/index.js';

const apps: FastifyInstance[] = [];

async function build(checks: Record<string, ReadinessCheck>, checkTimeoutMs?: number): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(observabilityPlugin, { service: 'demo', checks, ...(checkTimeoutMs ? { checkTimeoutMs } : {}) });
  app.get('/things/:id', async () => ({ ok: true }));
  apps.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const ok: ReadinessCheck = async () => {};

describe('health', () => {
  it('live answers without running any check', async () => {
    let ran = 0;
    const app = await build({ postgres: async () => void ran++ });
    const res = await app.inject('/health/live');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(ran).toBe(0);
  });

  it('ready is 200 with every check named when all pass', async () => {
    const app = await build({ postgres: ok, redis: ok, migrations: async () => true });
    const res = await app.inject('/health/ready');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', migrations: 'ok' } });
  });

  it('ready is 503 naming the check that threw, returned false or hung', async () => {
    const app = await build(
      {
        postgres: ok,
        redis: async () => {
          throw new Error('ECONNREFUSED');
        },
        migrations: async () => false,
        slow: () => new Promise(() => {}),
      },
      50,
    );
    const res = await app.inject('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'unavailable',
      checks: { postgres: 'ok', redis: 'failed', migrations: 'failed', slow: 'timeout' },
    });
  });

  it('ready stays 200 (degraded) when only a reportOnly check fails, and says unknown without blaming it', async () => {
    const app = await build({
      postgres: reportOnly(async () => {
        throw new Error('ECONNREFUSED');
      }),
      migrations: async () => 'unknown',
    });
    const res = await app.inject('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'failed', migrations: 'unknown' } });
    const degraded = await build({
      redis: reportOnly(async () => {
        throw new Error('ECONNREFUSED');
      }),
      migrations: async () => true,
    });
    const res2 = await degraded.inject('/health/ready');
    expect(res2.statusCode).toBe(200);
    expect(res2.json()).toEqual({ status: 'degraded', checks: { redis: 'failed', migrations: 'ok' } });
  });

  it('ready is 503 shutting_down once draining, without running checks', async () => {
    let ran = 0;
    const app = await build({ postgres: async () => void ran++ });
    app.readiness.draining = true;
    const res = await app.inject('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'shutting_down' });
    expect(ran).toBe(0);
  });
});

describe('metrics', () => {
  it('counts requests per route template and status, unmatched URLs under one label', async () => {
    const app = await build({ postgres: ok });
    await app.inject('/things/1');
    await app.inject('/things/2');
    await app.inject('/nope/12345');
    await app.inject('/health/ready');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = res.body;
    expect(text).toContain('http_request_duration_seconds_count{service="demo",method="GET",route="/things/:id",status_code="200"} 2');
    expect(text).toContain('http_request_duration_seconds_count{service="demo",method="GET",route="__unmatched__",status_code="404"} 1');
    expect(text).not.toContain('route="/health/ready"');
    expect(text).not.toContain('/nope/12345');
    expect(text).toContain('dependency_up{dependency="postgres",service="demo"} 1');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('exposes the domain counters the apps increment', async () => {
    const app = await build({});
    app.serviceMetrics.codesIssued.inc();
    app.serviceMetrics.codesRefused.inc({ reason: 'replayed' });
    app.serviceMetrics.tokensRevoked.inc({ by: 'client' }, 2);
    app.serviceMetrics.webhookDeliveries.inc({ outcome: 'delivered' });
    const text = (await app.inject('/metrics')).body;
    expect(text).toContain('oauth_codes_issued_total{service="demo"} 1');
    expect(text).toContain('oauth_codes_refused_total{reason="replayed",service="demo"} 1');
    expect(text).toContain('oauth_tokens_revoked_total{by="client",service="demo"} 2');
    expect(text).toContain('webhook_deliveries_total{outcome="delivered",service="demo"} 1');
    expect(text).toContain('oauth_login_failures_total{service="demo"} 0');
  });

  it('keeps each app to its own registry, as in the one-process start', async () => {
    const a = await build({});
    const b = await build({});
    a.serviceMetrics.tokensIssued.inc();
    expect((await a.inject('/metrics')).body).toContain('oauth_tokens_issued_total{service="demo"} 1');
    expect((await b.inject('/metrics')).body).toContain('oauth_tokens_issued_total{service="demo"} 0');
  });
});

describe('drainAndClose', () => {
  it('answers 503 on readiness while draining, still serves traffic, then finishes in-flight requests and closes', async () => {
    const app = Fastify({ logger: false });
    await app.register(observabilityPlugin, { service: 'demo', checks: {} });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    app.get('/slow', async () => {
      await held;
      return { done: true };
    });
    app.get('/fast', async () => ({ fast: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    const inFlight = fetch(`${base}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    const closed = drainAndClose([app], 300);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'shutting_down' });
    const fast = await fetch(`${base}/fast`);
    expect(fast.status).toBe(200);
    release();
    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(await slow.json()).toEqual({ done: true });
    await closed;
    await expect(fetch(`${base}/fast`)).rejects.toThrow();
  });
});
