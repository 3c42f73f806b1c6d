// Graceful shutdown under load: SIGTERM turns readiness to 503, the balancer stops sending, in-flight requests
// finish, the process exits 0 within its bound, and no request fails.

import { once } from 'node:events';
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startProcess } from '../../e2e/test/support.js';

let t: TestDatabase;
const redis = createTestRedis();

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
});
afterAll(async () => {
  await redis.cleanup();
  await t.drop();
});

interface Load {
  /** One request of the kind the service serves, and the status it must answer. */
  send: (base: string) => Promise<Response>;
  status: number;
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

const LOADS: Record<string, Load> = {
  'token-service': {
    // Client authentication (Postgres) and a code lookup (Redis) on every request.
    send: (base) =>
      fetch(`${base}/oauth/token`, form({ grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'secret', code: 'x' })),
    status: 400,
  },
  'authorize-ui': {
    send: (base) => fetch(`${base}/oauth/authorize?client_id=shoplifter&response_type=code`, { redirect: 'manual' }),
    status: 302,
  },
  'client-registry': {
    send: (base) => fetch(`${base}/openapi.json`),
    status: 200,
  },
};

const DRAIN_SECONDS = 1;
const TIMEOUT_SECONDS = 5;

describe.each(Object.keys(LOADS))('%s on SIGTERM under load', (app) => {
  it('drains, finishes in-flight requests, exits 0, and fails no request', async () => {
    const load = LOADS[app] as Load;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const service = await startProcess(
      app,
      ['node', `apps/${app}/dist/server.js`],
      {
        DATABASE_URL: t.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: redis.keyPrefix,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        PORT: String(port),
        WEBHOOK_WORKER: 'false',
        SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
        SHUTDOWN_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
        CLIENT_AUTH_FAILURES_PER_MINUTE: '100000',
        INVALID_GRANTS_PER_MINUTE: '100000',
        AUTHORIZE_RATE_LIMIT_PER_MINUTE: '100000',
      },
      [base],
    );
    const exited = once(service.process, 'exit') as Promise<[number | null]>;

    // The balancer: routes here while /health/ready says 200, as a Kubernetes endpoint or an nginx upstream check does.
    let routable = true;
    let sawDraining = false;
    const balancer = (async () => {
      while (routable) {
        try {
          const res = await fetch(`${base}/health/ready`);
          if (res.status === 503) {
            expect(await res.json()).toEqual({ status: 'shutting_down' });
            sawDraining = true;
            routable = false;
          }
        } catch {
          routable = false;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const failures: string[] = [];
    let answered = 0;
    const worker = async () => {
      while (routable) {
        try {
          const res = await load.send(base);
          await res.arrayBuffer();
          if (res.status === load.status) answered++;
          else failures.push(`status ${res.status}`);
        } catch (err) {
          failures.push(String((err as Error).cause ?? err));
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);

    await new Promise((r) => setTimeout(r, 500));
    const answeredBeforeSignal = answered;
    const signalledAt = Date.now();
    service.process.kill('SIGTERM');
    await Promise.all([...workers, balancer]);
    const [code] = await exited;
    const tookMs = Date.now() - signalledAt;

    expect(failures).toEqual([]);
    expect(answeredBeforeSignal).toBeGreaterThan(10);
    expect(answered).toBeGreaterThan(answeredBeforeSignal);
    expect(sawDraining).toBe(true);
    expect(code, service.output()).toBe(0);
    expect(tookMs).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000);
    expect(tookMs).toBeLessThan((DRAIN_SECONDS + TIMEOUT_SECONDS) * 1000);
    // Closed: nothing listens any more.
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});
