// The chaos run: two instances of each app behind round-robin proxies under closed-loop traffic, for at least
// 60 s, while Postgres and Redis are each cut 5 times at random moments (sockets reset, some mid-transaction)
// and one instance of each app is sent SIGTERM and restarted. Nothing but those exits, every answer is right
// or a clean 503, service is back within 2 s of each restore, and nothing is lost or half-made afterwards.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { DEV_ADMIN_KEY, seedDevAdminKey } from '@partner-oauth/storage';
import { createTestDatabase, liveTokensUnderEndedAuthorizations, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Browser, CALLBACK, freePort, hidden, type Service, startProcess } from '../../e2e/test/support.js';
import { type RoundRobinProxy, startRoundRobinProxy } from '../../scale/test/proxy.js';
import { TcpProxy, throughProxy } from './tcp-proxy.js';

const RUN_MS = 60_000;
const CUTS_PER_STORE = 5;
/** Printed, and settable through CHAOS_SEED, so a failing run can be replayed with the same moments. */
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

let t: TestDatabase;
const redis = createTestRedis();
const pgProxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
const redisProxy = new TcpProxy({ host: '127.0.0.1', port: 6379 });
const APPS = ['authorize-ui', 'token-service', 'client-registry'] as const;
type App = (typeof APPS)[number];
const instances: Record<App, Service[]> = { 'authorize-ui': [], 'token-service': [], 'client-registry': [] };
const proxies = {} as Record<App, RoundRobinProxy>;
const sink = createServer((req, res) => {
  req.resume();
  res.writeHead(204).end();
});
let env: Record<string, string>;
/** Exits nobody asked for: the first assertion of the run. */
const unexpectedExits: string[] = [];
const signalled = new Set<Service>();

const AUTH_QUERY = () => `client_id=shoplifter&response_type=code&state=chaos&redirect_uri=${encodeURIComponent(CALLBACK)}`;
const partner = { client_id: 'shoplifter', client_secret: 'secret' };
const platformApi = `Basic ${Buffer.from('platform-api:platform-api-secret').toString('base64')}`;

function random(): () => number {
  // mulberry32: small, seeded, good enough to pick moments.
  let a = SEED;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random();
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startInstance(app: App, port: number): Promise<Service> {
  const url = `http://127.0.0.1:${port}`;
  const service = await startProcess(app, ['node', `apps/${app}/dist/server.js`], { ...env, PORT: String(port) }, [url]);
  service.process.once('exit', (code, signal) => {
    if (!signalled.has(service)) unexpectedExits.push(`${app} ${url} exited ${code ?? signal}:\n${service.output().slice(-2000)}`);
  });
  return service;
}

beforeAll(async () => {
  console.log(`chaos seed ${SEED} (CHAOS_SEED=${SEED} replays these moments)`);
  t = await createTestDatabase(inject('templateDatabase'));
  await seedDevAdminKey(t.db);
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  // Removal notices go to this test's own sink, never to whatever listens on the seed's localhost:4000.
  const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/removed`;
  await t.db.updateTable('clients').set({ remove_url: sinkUrl }).where('client_id', '=', 'shoplifter').execute();
  await Promise.all([pgProxy.start(), redisProxy.start()]);
  const ports = Object.fromEntries(
    await Promise.all(APPS.map(async (app) => [app, [await freePort(), await freePort()]] as const)),
  ) as Record<App, [number, number]>;
  // As the deployment's gateway does: an instance draining for its restart (readiness 503) gets no new requests.
  for (const app of APPS)
    proxies[app] = await startRoundRobinProxy(
      ports[app].map((p) => `http://127.0.0.1:${p}`),
      { readyPath: '/health/ready' },
    );
  env = {
    DATABASE_URL: throughProxy(t.url, pgProxy),
    REDIS_URL: throughProxy(redis.url, redisProxy),
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'fatal',
    ISSUER: proxies['authorize-ui'].url,
    // The worker's claim transaction runs every second on both token-services: it is cut too.
    WEBHOOK_WORKER: 'true',
    SHUTDOWN_DRAIN_SECONDS: '1',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
    CLIENT_AUTH_FAILURES_PER_MINUTE: '1000000',
    INVALID_GRANTS_PER_MINUTE: '1000000',
    AUTHORIZE_RATE_LIMIT_PER_MINUTE: '1000000',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
  };
  for (const app of APPS) instances[app] = await Promise.all(ports[app].map((p) => startInstance(app, p)));
}, 120_000);

afterAll(async () => {
  for (const s of Object.values(instances).flat()) {
    signalled.add(s);
    if (s.process.exitCode === null && s.process.signalCode === null) {
      s.process.kill('SIGTERM');
      await once(s.process, 'exit');
    }
  }
  await Promise.all(APPS.map((app) => proxies[app]?.close()));
  await Promise.all([pgProxy.close(), redisProxy.close()]);
  sink.close();
  await redis.cleanup();
  await t.drop();
});

/** Every answer that is not the expected one; must stay empty. */
const violations: string[] = [];
const stats = { flows: 0, tokens: 0, unavailable: 0, requests: 0 };
/** code -> how many times a token endpoint answered 200 for it. */
const redeemed = new Map<string, number>();
const revokedTokens: string[] = [];
/*
 * Endings of the shared (partner, app) grant by other workers: an admin's DELETE, a partner's revocation of its
 * last token. A code issued before such an ending is void (SECURITY.md 12.3: what it was bound to ended), so an
 * exchange that overlaps one may rightly answer invalid_grant. Bumped when an ending starts and when it ends.
 */
let endingMoves = 0;
let endingsInFlight = 0;
async function ending<T>(send: () => Promise<T>): Promise<T> {
  endingMoves++;
  endingsInFlight++;
  try {
    return await send();
  } finally {
    endingsInFlight--;
    endingMoves++;
  }
}

/** Thrown to abandon a flow after a clean refusal: the client would retry later. */
class Refused extends Error {}

/**
 * Checks one answer: `ok` says whether it is the right one. Anything else must be a 503 with Retry-After
 * (the designed refusal), or it is a violation. Network errors (a reset of an accepted request) are violations.
 */
async function check(what: string, send: () => Promise<Response>, ok: (res: Response) => boolean): Promise<Response> {
  stats.requests++;
  let res: Response;
  try {
    res = await send();
  } catch (err) {
    violations.push(`${what}: ${String((err as Error).cause ?? err)}`);
    throw new Refused();
  }
  if (ok(res)) return res;
  const location = res.headers.get('location') ?? '';
  // Once the client and redirect URI are validated, the designed refusal is a redirect to the partner (RFC 6749 §4.1.2.1).
  const toPartner = location.startsWith(`${CALLBACK}?error=temporarily_unavailable&state=chaos`);
  if ((res.status === 503 || ((res.status === 302 || res.status === 303) && toPartner)) && res.headers.get('retry-after') === '5') {
    stats.unavailable++;
    await res.arrayBuffer();
    throw new Refused();
  }
  violations.push(`${what}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  throw new Refused();
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** A user through the authorize-ui proxy, a partner through token-service's, then an admin read. */
async function fullFlow(): Promise<void> {
  const ui = proxies['authorize-ui'].url;
  const token = proxies['token-service'].url;
  const browser = new Browser(ui);
  const first = await check(
    'authorize',
    () => browser.get(`/oauth/authorize?${AUTH_QUERY()}`),
    (r) => r.status === 302,
  );
  const loginPage = await check(
    'login page',
    () => browser.follow(first),
    (r) => r.status === 200,
  );
  const loginHtml = await loginPage.text();
  const login = await check(
    'login',
    () =>
      browser.post('/login', {
        email: 'ada@example.com',
        password: 'lovelace-1815',
        return_to: hidden(loginHtml, 'return_to'),
        _csrf: hidden(loginHtml, '_csrf'),
      }),
    (r) => r.status === 303,
  );
  const picker = await (
    await check(
      'picker',
      () => browser.follow(login),
      (r) => r.status === 200,
    )
  ).text();
  const consentRes = await check(
    'consent',
    () => browser.get(`/oauth/consent?request_id=${hidden(picker, 'request_id')}&app_id=${t.ids.apps['Acme Support']}`),
    (r) => r.status === 200,
  );
  const consent = await consentRes.text();
  // The code's binding is read at the decision: an ending in flight then, or any after, may void the code.
  const movesAtDecision = endingMoves;
  const endingOverlapped = () => endingsInFlight > 0 || endingMoves !== movesAtDecision;
  const decision = await check(
    'decision',
    () =>
      browser.post('/oauth/decision', {
        request_id: hidden(consent, 'request_id'),
        app_id: hidden(consent, 'app_id'),
        decision: 'allow',
        _csrf: hidden(consent, '_csrf'),
      }),
    (r) => r.status === 303 && !(r.headers.get('location') ?? '').includes('error='),
  );
  const back = new URL(decision.headers.get('location') as string);
  const code = back.searchParams.get('code') as string;
  expect(code).toBeTruthy();

  // The partner retries a refused exchange a few times, as a careful client would: at most one 200 in all.
  let accessToken: string | undefined;
  for (let attempt = 0; attempt < 3 && !accessToken; attempt++) {
    if (attempt > 0) await sleep(300);
    try {
      const res = await check(
        'exchange',
        () => fetch(`${token}/oauth/token`, form({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, ...partner })),
        (r) => r.status === 200 || ((attempt > 0 || endingOverlapped()) && r.status === 400),
      );
      const body = (await res.json()) as { access_token?: string; error?: string };
      if (res.status === 400) {
        // A retried code the first (refused) attempt consumed, or a code whose grant another worker ended
        // meanwhile: refused for good, never a second token.
        expect(body.error).toBe('invalid_grant');
        return;
      }
      accessToken = body.access_token as string;
      redeemed.set(code, (redeemed.get(code) ?? 0) + 1);
      stats.tokens++;
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  if (!accessToken) return;

  const introspection = await check(
    'introspect',
    () => fetch(`${token}/oauth/introspect`, form({ token: accessToken as string }, { authorization: platformApi })),
    (r) => r.status === 200,
  );
  // Active, unless another worker's admin ended the shared authorization in between.
  expect(typeof ((await introspection.json()) as { active?: unknown }).active).toBe('boolean');
  const admin = { authorization: `Bearer ${DEV_ADMIN_KEY}` };
  const registry = proxies['client-registry'].url;
  const list = await check(
    'registry read',
    () => fetch(`${registry}/v1/clients/shoplifter/authorizations`, { headers: admin }),
    (r) => r.status === 200,
  );
  const { items } = (await list.json()) as { items: { id: string }[] };
  // Now and then an admin ends one: its tokens end with it and a removal notice is queued in the same transaction.
  const victim = items[0];
  if (victim && rand() < 0.3) {
    await check(
      'end authorization',
      () => ending(() => fetch(`${registry}/v1/clients/shoplifter/authorizations/${victim.id}`, { method: 'DELETE', headers: admin })),
      // 404: another worker ended it first.
      (r) => r.status === 204 || r.status === 404,
    );
  }
  // Half the tokens are revoked: their authorization ends and a removal notice is queued with it.
  if (rand() < 0.5) {
    await check(
      'revoke',
      () => ending(() => fetch(`${token}/oauth/revoke`, form({ token: accessToken as string, ...partner }))),
      (r) => r.status === 200,
    );
    revokedTokens.push(accessToken);
  }
  stats.flows++;
}

/** Closed-loop traffic until `stop` says so. */
async function trafficWorker(stop: () => boolean): Promise<void> {
  while (!stop()) {
    try {
      await fullFlow();
    } catch (err) {
      if (!(err instanceof Refused)) violations.push(`flow: ${String(err)}`);
      await sleep(100);
    }
  }
}

/** The quick probe of each app that needs both stores: how long until each answers right twice in a row. */
async function recoveryMs(): Promise<number> {
  const probes: [App, () => Promise<boolean>][] = [
    [
      'token-service',
      async () =>
        (await fetch(`${proxies['token-service'].url}/oauth/token`, form({ grant_type: 'authorization_code', code: 'x', ...partner })))
          .status === 400,
    ],
    [
      'authorize-ui',
      async () => (await fetch(`${proxies['authorize-ui'].url}/oauth/authorize?${AUTH_QUERY()}`, { redirect: 'manual' })).status === 302,
    ],
    [
      'client-registry',
      async () =>
        (await fetch(`${proxies['client-registry'].url}/v1/clients/shoplifter`, { headers: { authorization: `Bearer ${DEV_ADMIN_KEY}` } }))
          .status === 200,
    ],
  ];
  const started = Date.now();
  await Promise.all(
    probes.map(async ([, probe]) => {
      // Twice in a row: the round robin sends consecutive requests to both instances.
      let streak = 0;
      while (streak < 2 && Date.now() - started < 15_000) {
        streak = (await probe().catch(() => false)) ? streak + 1 : 0;
        if (streak < 2) await sleep(25);
      }
    }),
  );
  return Date.now() - started;
}

it('survives store cuts and restarts under load: no crash, only right answers or clean 503s, back within 2 s, nothing half-made', async () => {
  const began = Date.now();
  let stopping = false;
  const workers = Array.from({ length: 3 }, () => trafficWorker(() => stopping));
  const recoveries: { store: string; how: string; ms: number }[] = [];
  const restarts: { app: App; code: number | null }[] = [];

  // One instance of each app is restarted at a random moment, one after another.
  const restarter = (async () => {
    for (const app of APPS) {
      await sleep(between(8_000, 16_000));
      const victim = instances[app][0] as Service;
      const port = new URL(victim.url).port;
      signalled.add(victim);
      victim.process.kill('SIGTERM');
      const [code] = (await once(victim.process, 'exit')) as [number | null];
      restarts.push({ app, code });
      instances[app][0] = await startInstance(app, Number(port));
    }
  })();

  const stores = Array.from({ length: CUTS_PER_STORE }, () => ['postgres', 'redis'] as const).flat();
  for (const store of stores) {
    await sleep(between(1_500, 4_000));
    const proxy = store === 'postgres' ? pgProxy : redisProxy;
    let how = 'reset';
    if (store === 'postgres' && rand() < 0.6) {
      // Inside a transaction (a claim, a revocation, a client write), or a plain reset if none opens soon.
      how = 'mid-transaction';
      const fired = proxy.failOn({ pattern: 'begin', action: 'cut' });
      const inTime = await Promise.race([fired.then(() => true), sleep(2_000).then(() => false)]);
      if (!inTime) {
        how = 'reset';
        proxy.cut();
      }
    } else {
      proxy.cut();
    }
    await sleep(between(500, 2_500));
    proxy.restore();
    recoveries.push({ store, how, ms: await recoveryMs() });
  }
  await restarter;
  // At least RUN_MS of traffic in all.
  await sleep(Math.max(0, RUN_MS - (Date.now() - began)));
  stopping = true;
  await Promise.all(workers);
  console.log('chaos', JSON.stringify({ seed: SEED, ms: Date.now() - began, stats, recoveries, restarts }));

  expect(unexpectedExits).toEqual([]);
  // Distinct kinds first, so a failure reads in one screen.
  const kinds = [...new Set(violations.map((v) => v.slice(0, 160)))];
  expect(kinds, JSON.stringify(kinds, null, 1)).toEqual([]);
  expect(restarts).toEqual(APPS.map((app) => ({ app, code: 0 })));
  expect(recoveries.filter((r) => r.ms > 2_000)).toEqual([]);
  expect(recoveries.filter((r) => r.how === 'mid-transaction').length).toBeGreaterThan(0);
  expect(stats.tokens).toBeGreaterThan(10);
  expect(stats.unavailable).toBeGreaterThan(0);

  // Nothing lost or half-made.
  expect([...redeemed.values()].filter((n) => n > 1)).toEqual([]);
  const twiceRedeemed = await t.db
    .selectFrom('access_tokens')
    .select('code_hash')
    .where('code_hash', 'is not', null)
    .where('revoked_at', 'is', null)
    .groupBy('code_hash')
    .having((eb) => eb(eb.fn.countAll(), '>', 1))
    .execute();
  expect(twiceRedeemed).toEqual([]);
  const orphanTokens = await t.db
    .selectFrom('access_tokens as k')
    .leftJoin('authorizations as a', 'a.id', 'k.authorization_id')
    .select('k.id')
    .where('a.id', 'is', null)
    .execute();
  expect(orphanTokens).toEqual([]);
  // A live token under an ended authorization would outlive the partner's removal.
  expect(await liveTokensUnderEndedAuthorizations(t.db)).toEqual([]);
  // Every ended authorization has its removal notice in the outbox.
  const endedWithoutNotice = await t.db
    .selectFrom('authorizations as a')
    .leftJoin('webhook_deliveries as w', 'w.authorization_id', 'a.id')
    .select('a.id')
    .where('a.revoked_at', 'is not', null)
    .where('w.id', 'is', null)
    .execute();
  expect(endedWithoutNotice).toEqual([]);
  // Every revocation answered 200 is recorded: at least as many revoked tokens as 200s.
  expect(revokedTokens.length).toBeGreaterThan(0);
  const revokedRows = await t.db
    .selectFrom('access_tokens')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('revoked_at', 'is not', null)
    .executeTakeFirstOrThrow();
  expect(Number(revokedRows.n)).toBeGreaterThanOrEqual(revokedTokens.length);
}, 240_000);
