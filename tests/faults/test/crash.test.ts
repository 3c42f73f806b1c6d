// A token-service killed mid-transaction leaves no half-made authorization; shutdown during an outage is bounded.
import { once } from 'node:events';
import { CodeStore, RedisStore } from '@partner-oauth/ephemeral-store';
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CALLBACK, exchange, freePort, type Service, startProcess, stopProcess } from '../../e2e/test/support.js';
import { TcpProxy, throughProxy } from './tcp-proxy.js';

let t: TestDatabase;
const redis = createTestRedis();
const pgProxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
const redisProxy = new TcpProxy({ host: '127.0.0.1', port: 6379 });
const started: Service[] = [];
const partner = { grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'secret' };

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  await Promise.all([pgProxy.start(), redisProxy.start()]);
}, 60_000);

afterAll(async () => {
  for (const s of started) if (s.process.exitCode === null && s.process.signalCode === null) await stopProcess(s);
  await Promise.all([pgProxy.close(), redisProxy.close()]);
  await redis.cleanup();
  await t.drop();
});

async function tokenService(viaProxy: boolean): Promise<Service> {
  const port = await freePort();
  const service = await startProcess(
    'token-service',
    ['node', 'apps/token-service/dist/server.js'],
    {
      DATABASE_URL: viaProxy ? throughProxy(t.url, pgProxy) : t.url,
      REDIS_URL: viaProxy ? throughProxy(redis.url, redisProxy) : redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      PORT: String(port),
      WEBHOOK_WORKER: 'false',
      SHUTDOWN_DRAIN_SECONDS: '0',
      SHUTDOWN_TIMEOUT_SECONDS: '10',
    },
    [`http://127.0.0.1:${port}`],
  );
  started.push(service);
  return service;
}

/** Codes as authorize-ui issues them, straight into the shared Redis. */
async function issueCodes(n: number, appName: string): Promise<string[]> {
  const codes = new CodeStore(new RedisStore(redis.store.redis));
  const appId = t.ids.apps[appName] as string;
  const accountId = t.ids.accounts['ada@example.com'] as string;
  return Promise.all(
    Array.from({ length: n }, () =>
      codes.issue({ clientId: 'shoplifter', appId, accountId, redirectUri: CALLBACK, redirectUriSent: false, scope: 'app:read' }),
    ),
  );
}

async function count(table: 'authorizations' | 'access_tokens'): Promise<number> {
  const row = await t.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function expectNoHalfMadeAuthorization(): Promise<void> {
  const orphans = await t.db
    .selectFrom('authorizations as a')
    .leftJoin('access_tokens as k', 'k.authorization_id', 'a.id')
    .select('a.id')
    .where('k.id', 'is', null)
    .execute();
  expect(orphans).toEqual([]);
  const tokensWithoutAuthorization = await t.db
    .selectFrom('access_tokens as k')
    .leftJoin('authorizations as a', 'a.id', 'k.authorization_id')
    .select('k.id')
    .where('a.id', 'is', null)
    .execute();
  expect(tokensWithoutAuthorization).toEqual([]);
}

describe.each([
  // The write never reaches Postgres: nothing may be committed.
  { action: 'stall' as const, committed: 0 },
  // Postgres commits, the reply is lost with the process: a token exists nobody received; replay ends it.
  { action: 'deafen' as const, committed: 1 },
])('SIGKILL with a token write in flight ($action)', ({ action, committed }) => {
  it('leaves no half-made authorization, returns no token, and unredeemed codes stay redeemable elsewhere', async () => {
    const [inFlight] = await issueCodes(1, 'Acme Support');
    const [spare] = await issueCodes(1, 'Acme Sales');
    const victim = await tokenService(true);
    const [authsBefore, tokensBefore] = [await count('authorizations'), await count('access_tokens')];

    // The token write's text (a lone exchange's call of one row, migration 0012) crosses the wire when a new process
    // first prepares it.
    const fired = pgProxy.failOn({ pattern: 'issue_token_from_code(', action });
    const pending = exchange(victim.url, { ...partner, code: inFlight as string }).then(
      (res) => res,
      (err: unknown) => err,
    );
    await fired;
    // Let Postgres act on what it received before the process dies.
    await new Promise((r) => setTimeout(r, 200));
    victim.process.kill('SIGKILL');
    await once(victim.process, 'exit');
    // The partner got no token: the connection died with the process.
    expect(await pending).toBeInstanceOf(Error);
    pgProxy.restore();

    await expectNoHalfMadeAuthorization();
    expect(await count('access_tokens')).toBe(tokensBefore + committed);
    expect((await count('authorizations')) - authsBefore).toBeLessThanOrEqual(committed);

    // Another instance: the consumed code is refused, and any token committed from it is revoked.
    const survivor = await tokenService(false);
    const replay = await exchange(survivor.url, { ...partner, code: inFlight as string });
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({
      error: 'invalid_grant',
      error_description: 'the code is invalid, expired, already used or was issued to another client',
    });
    const live = await t.db.selectFrom('access_tokens').select('id').where('revoked_at', 'is', null).execute();
    expect(live).toHaveLength(tokensBefore);
    // The code issued but never presented before the crash works on the other instance, once.
    const ok = await exchange(survivor.url, { ...partner, code: spare as string });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      access_token: expect.stringMatching(/^poat_/),
      token_type: 'Bearer',
      app_id: t.ids.apps['Acme Sales'],
      scope: 'app:read',
    });
    await expectNoHalfMadeAuthorization();
    expect(await stopProcess(survivor)).toBe(0);
  });
});

describe('SIGTERM while Redis and Postgres are unreachable', () => {
  it('exits 0 within a few seconds', async () => {
    const service = await tokenService(true);
    // Connections are open in the pool and to Redis, then both stores fall silent.
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    pgProxy.stall();
    redisProxy.stall();
    const begin = Date.now();
    const code = await stopProcess(service);
    const took = Date.now() - begin;
    pgProxy.restore();
    redisProxy.restore();
    expect(code).toBe(0);
    expect(took).toBeLessThan(5_000);
  });
});
