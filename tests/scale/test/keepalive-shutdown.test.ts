// SIGTERM while a gateway keeps sending on its pooled keep-alive connections (it does not watch readiness):
// every request the service accepted gets a whole HTTP answer (the expected one, or a clean 503); none is reset.
// Regression: 1-4 of ~1000 requests were reset when the drain ended and the listener closed idle sockets.
import { once } from 'node:events';
import { Agent, request } from 'node:http';
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

/** A path each service answers with a known status, touching its stores where it can. */
const LOADS: Record<string, { method: string; path: string; body?: string; status: number }> = {
  'token-service': {
    method: 'POST',
    path: '/oauth/token',
    body: 'grant_type=authorization_code&client_id=shoplifter&client_secret=secret&code=x',
    status: 400,
  },
  'authorize-ui': { method: 'GET', path: '/oauth/authorize?client_id=shoplifter&response_type=code', status: 302 },
  'client-registry': { method: 'GET', path: '/openapi.json', status: 200 },
};

interface Outcome {
  status?: number;
  /** The error code when no HTTP answer came back. */
  error?: string;
  connection?: string | undefined;
  retryAfter?: string | undefined;
}

/** One request through `agent` (a gateway's upstream pool: keep-alive, reused sockets). */
function send(agent: Agent, port: number, load: (typeof LOADS)[string]): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: load.method,
        path: load.path,
        agent,
        headers: load.body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(load.body) } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode as number, connection: res.headers.connection, retryAfter: res.headers['retry-after'] }),
        );
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(load.body);
  });
}

const DRAIN_SECONDS = 2;

describe.each(Object.keys(LOADS))('%s on SIGTERM with a keep-alive client that keeps sending', (app) => {
  it('answers every accepted request in full, closes connections only after an answer, resets none, exits 0', async () => {
    const load = LOADS[app] as (typeof LOADS)[string];
    const port = await freePort();
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
        SHUTDOWN_TIMEOUT_SECONDS: '5',
        CLIENT_AUTH_FAILURES_PER_MINUTE: '1000000',
        INVALID_GRANTS_PER_MINUTE: '1000000',
        AUTHORIZE_RATE_LIMIT_PER_MINUTE: '1000000',
      },
      [`http://127.0.0.1:${port}`],
    );
    const exited = once(service.process, 'exit') as Promise<[number | null]>;
    let running = true;
    void exited.then(() => {
      running = false;
    });

    // nginx's upstream keepalive: sockets kept for 60 s, reused for request after request.
    const agent = new Agent({ keepAlive: true, maxSockets: 8, timeout: 60_000 });
    const outcomes: { at: number; outcome: Outcome }[] = [];
    let signalledAt = 0;
    const worker = async () => {
      while (running) {
        const outcome = await send(agent, port, load);
        outcomes.push({ at: signalledAt ? Date.now() - signalledAt : -1, outcome });
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 500));
    signalledAt = Date.now();
    service.process.kill('SIGTERM');
    const [code] = await exited;
    await Promise.all(workers);
    agent.destroy();

    const answered = outcomes.filter(({ outcome }) => outcome.status !== undefined);
    // A refused connect never reached the service (the listener was closed): a gateway retries it on another upstream.
    const failures = outcomes.filter(({ outcome }) => outcome.error !== undefined && outcome.error !== 'ECONNREFUSED');
    expect(failures).toEqual([]);
    expect(answered.filter(({ outcome }) => outcome.status !== load.status && outcome.status !== 503)).toEqual([]);
    // A refusal is a clean 503 that says to retry elsewhere and closes the connection.
    for (const { outcome } of answered.filter(({ outcome }) => outcome.status === 503)) expect(outcome.connection).toBe('close');
    // During the drain the service kept serving as usual.
    const duringDrain = answered.filter(({ at }) => at > 100 && at < DRAIN_SECONDS * 1000 - 100);
    expect(duringDrain.length).toBeGreaterThan(10);
    for (const { outcome } of duringDrain) expect(outcome.status).toBe(load.status);
    // After it, the answers that still came closed their connections.
    for (const { outcome } of answered.filter(({ at }) => at > DRAIN_SECONDS * 1000 + 200)) expect(outcome.connection).toBe('close');
    expect(code, service.output()).toBe(0);
  });
});
