// `pnpm bench`: the product in production mode (three services as processes, real Postgres and Redis) beside the
// peer a user would pick instead (oidc-provider, one process, Redis), the same scenarios and driver, alternating.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { type CodeGrant, CodeStore, RedisStore } from '@partner-oauth/ephemeral-store';
import { sha256 } from '@partner-oauth/service-kit';
import { createAdminKey, migrateToLatest, openDatabase, seedDemoData } from '@partner-oauth/storage';
import pg from 'pg';
import {
  Browser,
  type Endpoints,
  exchange,
  exchangeForRefresh,
  introspect,
  PEER_ENDPOINTS,
  PeerBrowser,
  PRODUCT_ENDPOINTS,
  ROTATING_QUERY,
  refresh,
  revoke,
  send,
  Target,
} from './clients.js';
import { type Components, cpuMs, snapshot } from './cpu.js';
import { type LoadResult, median, type Outcome, runLoad } from './load.js';
import { freePort, type Proc, peakRssMb, ROOT, start, startFlags, stop } from './processes.js';
import { loadScaleData } from './scale.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
/** `--check`: exit non-zero when a target (ratio, p99, memory, error-free) is missed. */
const check = args.has('--check');
/** `--scale`: after the small database, load 10,000 partners, 100,000 apps, 1 million live tokens and run again. */
const scale = args.has('--scale');
/** `--only=exchange,introspection`: run just those scenarios, e.g. while profiling. */
const only = [...args]
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wants = (name: string) => !only || only.includes(name);
/** `--profile`: the product's services write V8 CPU profiles (--cpu-prof) under bench-results/profiles. */
const profile = args.has('--profile');
const DURATION_MS = quick ? 2000 : 5000;
const REPEATS = 3;
const C = 16;
const POOL = 10_000;
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The targets of issue 13, as ratios product/peer in the same run. */
const TARGETS: Record<string, number> = { exchange: 1.5, introspection: 2.5, flow: 1.5, refresh: 1.5 };
const RSS_MAX_MB = 150;

interface Side {
  name: 'product' | 'peer';
  token: Target;
  endpoints: Endpoints;
  browsers: { mintCode(): Promise<string> }[];
  /** `n` fresh codes, each redeemable once. */
  mintCodes(n: number): Promise<string[]>;
  /** `n` fresh codes of the rotating partner (shoplifter-rotating). */
  mintRotatingCodes(n: number): Promise<string[]>;
  /** One live refresh token per worker, each the head of its own rotation chain. */
  refreshTokens: string[];
  components: Components;
  /** Validated access tokens issued so far: the introspection pool. */
  tokens: string[];
}

interface Measured extends LoadResult {
  /** Server CPU milliseconds per validated operation, by component. */
  cpuPerOp: Record<string, number>;
}

interface Row {
  scenario: string;
  key: string;
  concurrency: number;
  product: Measured;
  peer: Measured;
  /** The no-op floor server (bench/src/floor) under the same driver: the most any server reaches here. */
  floor?: Measured;
  /** The floor that commits each token to Postgres before answering: the most a server held to that rule reaches. */
  durableFloor?: Measured;
}

function dbUrl(name: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The bench's own redis-server: both sides use it, and its CPU is theirs alone. */
async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const { Redis } = await import('ioredis');
  for (let attempt = 0; ; attempt++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch (err) {
      probe.disconnect();
      if (attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, child };
}

async function measure(
  side: Pick<Side, 'components'>,
  concurrency: number,
  operation: (w: number, i: number) => Promise<Outcome>,
): Promise<Measured> {
  const before = await snapshot(side.components);
  const result = await runLoad({ concurrency, durationMs: DURATION_MS, operation });
  const used = cpuMs(before, await snapshot(side.components));
  const cpuPerOp = Object.fromEntries(Object.entries(used).map(([k, v]) => [k, result.count > 0 ? v / result.count : Number.NaN]));
  return { ...result, cpuPerOp };
}

/** Each side `REPEATS` times, alternating which goes first; the median run of each. */
async function compare(
  label: string,
  sides: [Side, Side],
  run: (side: Side) => Promise<Measured>,
): Promise<{ product: Measured; peer: Measured }> {
  const runs: Record<string, Measured[]> = { product: [], peer: [] };
  for (let i = 0; i < REPEATS; i++) {
    for (const side of i % 2 === 0 ? sides : [sides[1], sides[0]]) runs[side.name]?.push(await run(side));
  }
  const product = median(runs.product as Measured[]);
  const peer = median(runs.peer as Measured[]);
  const fmt = (xs: Measured[]) => xs.map((x) => x.throughput.toFixed(0)).join(', ');
  process.stderr.write(
    `  ${label}: product ${product.throughput.toFixed(0)}/s (${fmt(runs.product as Measured[])}), peer ${peer.throughput.toFixed(0)}/s (${fmt(runs.peer as Measured[])}) -> ${(product.throughput / peer.throughput).toFixed(2)}x\n`,
  );
  return { product, peer };
}

/** Codes for one exchange run: enough to last its whole time at well above either side's rate (8,000/s at c16). */
const codePool = (concurrency: number) => Math.ceil((DURATION_MS / 1000) * (concurrency === 1 ? 2_500 : 8_000));

async function exchangeScenario(side: Side, concurrency: number): Promise<Measured> {
  // A fixed pool of codes per run; a run that empties it before its time ends there (its rate stands).
  const codes = await side.mintCodes(codePool(concurrency));
  return measure(side, concurrency, async () => {
    const code = codes.pop();
    if (!code) return 'done';
    side.tokens.push(await exchange(side.token, code, side.endpoints));
    return 'ok';
  });
}

/**
 * Refreshes with rotation (issue 14: "a refresh costs no more than a code exchange"): each worker rotates its own chain,
 * so no two requests ever carry the same refresh token (that would be a reuse, which ends the family on both sides).
 */
async function refreshScenario(side: Side): Promise<Measured> {
  if (side.refreshTokens.length < C) {
    const codes = await side.mintRotatingCodes(C - side.refreshTokens.length);
    for (const code of codes) side.refreshTokens.push(await exchangeForRefresh(side.token, code, side.endpoints));
  }
  return measure(side, C, async (w) => {
    side.refreshTokens[w] = await refresh(side.token, side.refreshTokens[w] as string, side.endpoints);
    return 'ok';
  });
}

async function introspectionScenario(side: Side): Promise<Measured> {
  const pool = side.tokens;
  let next = 0;
  return measure(side, C, async () =>
    (await introspect(side.token, pool[next++ % pool.length] as string, side.endpoints)) ? 'ok' : 'error',
  );
}

async function flowScenario(side: Side): Promise<Measured> {
  return measure(side, C, async (w) => {
    const code = await (side.browsers[w] as { mintCode(): Promise<string> }).mintCode();
    side.tokens.push(await exchange(side.token, code, side.endpoints));
    return 'ok';
  });
}

/**
 * The floor's figure for a scenario, the median of `REPEATS` runs: the same requests and validators as the sides',
 * answered by a server that does nothing (any code is accepted, any token is active).
 */
async function floorScenario(floor: Floor, key: 'exchange' | 'introspection', concurrency: number): Promise<Measured> {
  const label = floor.name === 'floor' ? 'floor' : 'durable floor';
  const runs: Measured[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const codes = Array.from({ length: codePool(concurrency) }, (_, n) => `floor-code-${n}`);
    const token = `poat_${randomBytes(32).toString('base64url')}`;
    runs.push(
      await measure(floor, concurrency, async () => {
        if (key === 'introspection') return (await introspect(floor.target, token)) ? 'ok' : 'error';
        const code = codes.pop();
        if (!code) return 'done';
        await exchange(floor.target, code);
        return 'ok';
      }),
    );
  }
  const result = median(runs);
  process.stderr.write(
    `  ${label} ${key} c${concurrency}: ${result.throughput.toFixed(0)}/s (${runs.map((r) => r.throughput.toFixed(0)).join(', ')})\n`,
  );
  return result;
}

interface Floor {
  name: 'floor' | 'floor-durable';
  target: Target;
  components: Components;
}

/** At least `POOL` live tokens on a side, minted through its real flow, for introspection. */
async function fillPool(side: Side): Promise<void> {
  while (side.tokens.length < POOL) {
    const codes = await side.mintCodes(Math.min(2000, POOL - side.tokens.length));
    await Promise.all(
      Array.from({ length: C }, async () => {
        for (let code = codes.pop(); code; code = codes.pop()) side.tokens.push(await exchange(side.token, code, side.endpoints));
      }),
    );
  }
}

/** Undoes what the run made (database, processes); also on Ctrl-C. */
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });

async function main(): Promise<void> {
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const dbName = `poauth_bench_${runId}`;
  await adminQuery(`create database ${dbName}`);
  const procs: Proc[] = [];
  const targets: Target[] = [];
  let redis: { url: string; child: ChildProcess } | undefined;
  cleanups.push(async () => {
    await adminQuery(`drop database if exists ${dbName} with (force)`);
  });
  cleanups.push(async () => {
    redis?.child.kill('SIGTERM');
  });
  cleanups.push(async () => {
    await Promise.all(procs.map(stop));
  });
  cleanups.push(async () => {
    await Promise.all(targets.map((t) => t.close()));
  });
  try {
    redis = await startRedis();
    const db = await openDatabase({ databaseUrl: dbUrl(dbName) });
    await migrateToLatest(db);
    await seedDemoData(db);
    const adminKey = `poak_${randomBytes(32).toString('base64url')}`;
    await createAdminKey(db, { name: 'bench', keyHash: sha256(adminKey) });
    await db.destroy();

    const arenaMax = process.env.BENCH_MALLOC_ARENA_MAX ?? '2';
    const common = {
      NODE_ENV: 'production',
      // As the image and the start scripts set it: large allocations (scrypt's 16 MiB per sign-in, on whichever
      // thread-pool thread) go back to the system when freed instead of staying in that thread's malloc arena.
      MALLOC_MMAP_THRESHOLD_: process.env.BENCH_MALLOC_MMAP_THRESHOLD ?? '1048576',
      // As the image and the start scripts set it: two malloc arenas for all of a service's threads, not one per
      // thread that allocates (V8's workers, libuv's pool); BENCH_MALLOC_ARENA_MAX='' leaves glibc's default.
      ...(arenaMax === '' ? {} : { MALLOC_ARENA_MAX: arenaMax }),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      DATABASE_URL: dbUrl(dbName),
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'product:',
      ISSUER: 'https://auth.bench.invalid',
      TOKEN_SERVICE_PUBLIC_URL: 'https://api.bench.invalid',
      // Behind a TLS-terminating gateway, as in production (the bench sends X-Forwarded-Proto: https).
      TRUST_PROXY: '1',
      // The bench drives thousands of flows a second from one address: lift the per-address limits.
      AUTHORIZE_RATE_LIMIT_PER_MINUTE: '100000000',
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      SESSION_SECRET: randomBytes(32).toString('hex'),
      WEBHOOK_SIGNING_KEY: randomBytes(32).toString('hex'),
    };
    const [pUi, pToken, pReg, pPeer] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    // Each service's own heap flags, read from its package.json `start` (the container's NODE_OPTIONS are the same:
    // tests/infra checks), unless BENCH_NODE_ARGS gives others for all three.
    const nodeArgs = (service: string) => [
      ...(process.env.BENCH_NODE_ARGS?.split(' ') ?? startFlags(service)).filter(Boolean),
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench-results', 'profiles')}`] : []),
    ];
    // Each service from its production bundle (dist/bundle/server.js), as its start script and the image run it.
    // Each is recorded as soon as it is up, so one that fails to start does not leave the others running.
    const started = async (proc: Promise<Proc>) => {
      const p = await proc;
      procs.push(p);
      return p;
    };
    const ui = await started(
      start('authorize-ui', 'apps/authorize-ui/dist/bundle/server.js', common, pUi, { nodeArgs: nodeArgs('authorize-ui') }),
    );
    const token = await started(
      start('token-service', 'apps/token-service/dist/bundle/server.js', common, pToken, { nodeArgs: nodeArgs('token-service') }),
    );
    const registry = await started(
      start('client-registry', 'apps/client-registry/dist/bundle/server.js', common, pReg, { nodeArgs: nodeArgs('client-registry') }),
    );
    // The peer as its documentation deploys it: one process, NODE_ENV=production, Node's default heap.
    const peer = await start(
      'oidc-provider',
      'bench/dist/peer/server.js',
      { NODE_ENV: 'production', REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'peer:' },
      pPeer,
    );
    procs.push(peer);
    const floorProc = await start('floor', 'bench/dist/floor/server.js', {}, await freePort());
    procs.push(floorProc);
    const durableProc = await start('floor-durable', 'bench/dist/floor/server.js', { DATABASE_URL: dbUrl(dbName) }, await freePort());
    procs.push(durableProc);

    const tUi = new Target(ui.url, C);
    const tToken = new Target(token.url, C);
    const tPeer = new Target(peer.url, C);
    const floor: Floor = {
      name: 'floor',
      target: new Target(floorProc.url, C),
      components: async () => ({ floor: [floorProc.child.pid as number] }),
    };
    /** The bench database's backends: the durable floor's (application_name bench-floor) or the product's (the rest). */
    const backends = async (of: 'product' | 'floor') =>
      (
        await adminQuery<{ pid: number }>(
          "select pid from pg_stat_activity where datname = $1 and (application_name = 'bench-floor') = $2",
          [dbName, of === 'floor'],
        )
      ).map((r) => r.pid);
    const durableFloor: Floor = {
      name: 'floor-durable',
      target: new Target(durableProc.url, C),
      components: async () => ({ 'floor-durable': [durableProc.child.pid as number], postgres: await backends('floor') }),
    };
    targets.push(tUi, tToken, tPeer, floor.target, durableFloor.target);

    const productBrowsers = await Promise.all(
      Array.from({ length: C }, async () => {
        const b = new Browser(tUi);
        await b.login('grace@example.com', 'hopper-1906');
        return b;
      }),
    );
    const peerBrowsers = await Promise.all(
      Array.from({ length: C }, async () => {
        const b = new PeerBrowser(tPeer);
        await b.login('grace', 'hopper-1906');
        return b;
      }),
    );
    const redisPid = redis.child.pid as number;
    const productCodes = RedisStore.connect(redis.url, common.REDIS_KEY_PREFIX);
    cleanups.push(() => productCodes.close());
    const product: Side = {
      name: 'product',
      token: tToken,
      endpoints: PRODUCT_ENDPOINTS,
      browsers: productBrowsers,
      // As the peer's: one code from the real decision path (consent page, then Allow), then copies of its grant made
      // through the product's own code store (what authorize-ui's decision writes), each redeemable once.
      async mintCodes(n) {
        const like = await (productBrowsers[0] as Browser).mintCode();
        const raw = await productCodes.get(`code:${sha256(like)}`);
        if (!raw) throw new Error('product codes: the real code is not in Redis');
        const { issuedAt: _issued, expiresAt: _expires, ...grant } = JSON.parse(raw) as CodeGrant & { issuedAt: number; expiresAt: number };
        const codes = new CodeStore(productCodes);
        const copies: string[] = [like];
        while (copies.length < n)
          copies.push(...(await Promise.all(Array.from({ length: Math.min(500, n - copies.length) }, () => codes.issue(grant)))));
        return copies;
      },
      async mintRotatingCodes(n) {
        const codes: string[] = [];
        await Promise.all(
          productBrowsers.map(async (b) => {
            while (codes.length < n) codes.push(await b.mintCode(ROTATING_QUERY));
          }),
        );
        return codes.slice(0, n);
      },
      refreshTokens: [],
      components: async () => ({
        'authorize-ui': [ui.child.pid as number],
        'token-service': [token.child.pid as number],
        'client-registry': [registry.child.pid as number],
        postgres: await backends('product'),
        redis: [redisPid],
      }),
      tokens: [],
    };
    const peerSide: Side = {
      name: 'peer',
      token: tPeer,
      endpoints: PEER_ENDPOINTS,
      browsers: peerBrowsers,
      // One code from the real flow, then copies of it made through oidc-provider's own model API.
      async mintCodes(n) {
        const like = await (peerBrowsers[0] as PeerBrowser).mintCode();
        const res = await send(tPeer, 'GET', `/bench/codes?like=${encodeURIComponent(like)}&count=${n}`);
        if (res.status !== 200) throw new Error(`peer codes: ${res.status} ${res.body}`);
        return JSON.parse(res.body) as string[];
      },
      async mintRotatingCodes(n) {
        return Promise.all(
          Array.from({ length: n }, (_, i) => (peerBrowsers[i % peerBrowsers.length] as PeerBrowser).mintCode(ROTATING_QUERY)),
        );
      },
      refreshTokens: [],
      components: async () => ({ 'oidc-provider': [peer.child.pid as number], redis: [redisPid] }),
      tokens: [],
    };
    const sides: [Side, Side] = [product, peerSide];

    process.stderr.write(
      `bench: ${quick ? 'quick' : 'full'} run, ${DURATION_MS} ms x ${REPEATS} per side and figure, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})\n`,
    );
    const rows: Row[] = [];
    const scenarios = async (suffix: string) => {
      if (wants('exchange')) {
        rows.push({
          scenario: `code -> token exchange${suffix}`,
          key: 'exchange',
          concurrency: C,
          ...(await compare(`exchange c${C}${suffix}`, sides, (s) => exchangeScenario(s, C))),
          ...(suffix
            ? {}
            : { floor: await floorScenario(floor, 'exchange', C), durableFloor: await floorScenario(durableFloor, 'exchange', C) }),
        });
        if (!suffix)
          rows.push({
            scenario: 'code -> token exchange',
            key: 'exchange',
            concurrency: 1,
            ...(await compare('exchange c1', sides, (s) => exchangeScenario(s, 1))),
            floor: await floorScenario(floor, 'exchange', 1),
            durableFloor: await floorScenario(durableFloor, 'exchange', 1),
          });
      }
      if (wants('introspection')) {
        await fillPool(product);
        await fillPool(peerSide);
        rows.push({
          scenario: `introspection, pool of ${POOL}+ tokens${suffix}`,
          key: 'introspection',
          concurrency: C,
          ...(await compare(`introspection${suffix}`, sides, introspectionScenario)),
          ...(suffix ? {} : { floor: await floorScenario(floor, 'introspection', C) }),
        });
      }
      if (wants('refresh') && !suffix)
        rows.push({
          scenario: 'refresh with rotation (refresh_token grant)',
          key: 'refresh',
          concurrency: C,
          ...(await compare('refresh', sides, refreshScenario)),
        });
      if (wants('flow') && !suffix)
        rows.push({
          scenario: 'full flow, signed in (authorize, consent, decision, token)',
          key: 'flow',
          concurrency: C,
          ...(await compare('full flow', sides, flowScenario)),
        });
    };
    await scenarios('');

    // Speed is never bought with stale answers: a revoked token is refused by the very next introspection.
    const revocation: Record<string, boolean> = {};
    for (const side of sides) {
      const victim = side.tokens.pop() ?? (await exchange(side.token, (await side.mintCodes(1))[0] as string, side.endpoints));
      await revoke(side.token, victim, side.endpoints);
      revocation[side.name] = !(await introspect(side.token, victim, side.endpoints));
    }

    let scaleInfo: { loadMs: number; tokens: number } | undefined;
    if (scale) {
      const t0 = performance.now();
      const scaleTokens = await loadScaleData(dbUrl(dbName), POOL);
      scaleInfo = { loadMs: performance.now() - t0, tokens: 1_000_000 };
      // Introspection at scale cycles through tokens spread over the whole table, not just the recent ones.
      product.tokens = [...scaleTokens, ...product.tokens.slice(-POOL)];
      await scenarios(' [1M tokens]');
    }

    const rss: Record<string, number> = Object.fromEntries(procs.map((p) => [p.name, Math.round(peakRssMb(p.child.pid))]));
    const failures = report(rows, rss, revocation, scaleInfo);
    if (check && failures.length > 0) {
      console.error(`\n--check: ${failures.length} target(s) missed:\n  ${failures.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
  }
}

const cpuTotal = (m: Measured) => Object.values(m.cpuPerOp).reduce((a, b) => a + b, 0);
const cpuParts = (m: Measured) =>
  Object.entries(m.cpuPerOp)
    .filter(([, v]) => v >= 0.005)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');

/** Prints the comparison and returns the missed targets. */
function report(
  rows: Row[],
  rss: Record<string, number>,
  revocation: Record<string, boolean>,
  scaleInfo: { loadMs: number; tokens: number } | undefined,
): string[] {
  const failures: string[] = [];
  const lines = [
    '| scenario | c | ratio | target | product /s | peer /s | p99 ms product / peer | errors product / peer | server CPU ms/op product / peer |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = r.product.throughput / r.peer.throughput;
    const target = TARGETS[r.key] as number;
    const met = ratio >= target;
    const p99Met = r.product.p99Ms <= r.peer.p99Ms;
    const name = `${r.scenario} c${r.concurrency}`;
    // At one connection the durable floor bounds any server that commits each token before answering it: say so.
    const bound = r.concurrency === 1 && r.durableFloor ? r.durableFloor.throughput / r.peer.throughput : Number.POSITIVE_INFINITY;
    const reach =
      bound < target ? ` (out of reach here: the durable floor, which only commits each token, reaches ${bound.toFixed(2)})` : '';
    if (!met) failures.push(`${name}: ratio ${ratio.toFixed(2)} < ${target}${reach}`);
    if (!p99Met) failures.push(`${name}: p99 ${r.product.p99Ms.toFixed(1)} ms > peer's ${r.peer.p99Ms.toFixed(1)} ms`);
    if (r.product.errors + r.peer.errors > 0)
      failures.push(`${name}: errors (product ${r.product.errors}, peer ${r.peer.errors}): ${r.product.firstError ?? r.peer.firstError}`);
    lines.push(
      `| ${r.scenario} | ${r.concurrency} | **${ratio.toFixed(2)}x** | ${met ? 'met' : 'MISSED'} (>= ${target}x), p99 ${p99Met ? 'met' : 'MISSED'} | ${r.product.throughput.toFixed(0)} | ${r.peer.throughput.toFixed(0)} | ${r.product.p99Ms.toFixed(1)} / ${r.peer.p99Ms.toFixed(1)} | ${r.product.errors} / ${r.peer.errors} | ${cpuTotal(r.product).toFixed(2)} / ${cpuTotal(r.peer).toFixed(2)} |`,
    );
  }
  // The floor: no server reaches more here, so no ratio above floor ÷ peer can be met on this machine with this driver.
  for (const r of rows.filter((x) => x.floor)) {
    const floor = r.floor as Measured;
    lines.push(
      `| no-op floor: ${r.scenario} | ${r.concurrency} | ${(floor.throughput / r.peer.throughput).toFixed(2)}x (ceiling) | | ${floor.throughput.toFixed(0)} (floor) | ${r.peer.throughput.toFixed(0)} | ${floor.p99Ms.toFixed(1)} / ${r.peer.p99Ms.toFixed(1)} | ${floor.errors} / ${r.peer.errors} | ${cpuTotal(floor).toFixed(2)} / ${cpuTotal(r.peer).toFixed(2)} |`,
    );
  }
  // The durable floor: commits each token before answering it and does nothing else, so no server held to that rule
  // reaches more at one connection (a call per token); at 16, it is the product's own way of batching, not a bound.
  for (const r of rows.filter((x) => x.durableFloor)) {
    const floor = r.durableFloor as Measured;
    lines.push(
      `| durable floor (a commit per answer): ${r.scenario} | ${r.concurrency} | ${(floor.throughput / r.peer.throughput).toFixed(2)}x (${r.concurrency === 1 ? 'ceiling' : 'reference'}) | | ${floor.throughput.toFixed(0)} (durable floor) | ${r.peer.throughput.toFixed(0)} | ${floor.p99Ms.toFixed(1)} / ${r.peer.p99Ms.toFixed(1)} | ${floor.errors} / ${r.peer.errors} | ${cpuTotal(floor).toFixed(2)} / ${cpuTotal(r.peer).toFixed(2)} |`,
    );
  }
  // At scale, the ratios may not fall more than 10% from the small database.
  for (const r of rows.filter((x) => x.scenario.endsWith('[1M tokens]'))) {
    const small = rows.find((x) => x.key === r.key && x.concurrency === r.concurrency && !x.scenario.endsWith('[1M tokens]'));
    if (!small) continue;
    const drop = 1 - r.product.throughput / r.peer.throughput / (small.product.throughput / small.peer.throughput);
    lines.push(
      `| ${r.key} ratio at scale vs small | | ${((1 - drop) * 100).toFixed(0)}% | ${drop <= 0.1 ? 'met' : 'MISSED'} (fall <= 10%) | | | | | |`,
    );
    if (drop > 0.1) failures.push(`${r.key} at scale: ratio fell ${(drop * 100).toFixed(0)}% (> 10%)`);
  }
  for (const [name, mb] of Object.entries(rss))
    if (name !== 'oidc-provider' && !name.startsWith('floor') && mb > RSS_MAX_MB)
      failures.push(`${name}: peak RSS ${mb} MB > ${RSS_MAX_MB}`);
  for (const [name, refused] of Object.entries(revocation))
    if (!refused) failures.push(`${name}: a revoked token was still active at the next introspection`);

  const cpuLines = rows.map((r) => `  ${r.scenario} c${r.concurrency}: product ${cpuParts(r.product)} | peer ${cpuParts(r.peer)}`);
  const text = [
    lines.join('\n'),
    '',
    'server CPU per validated operation (ms), by process:',
    ...cpuLines,
    `peak RSS (MB): ${Object.entries(rss)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (target <= ${RSS_MAX_MB} per product service)`,
    `revoked token refused by the next introspection: ${Object.entries(revocation)
      .map(([k, v]) => `${k} ${v ? 'yes' : 'NO'}`)
      .join(', ')}`,
    ...(scaleInfo
      ? [`scale data (10,000 partners, 100,000 apps, ${scaleInfo.tokens} tokens) loaded in ${(scaleInfo.loadMs / 1000).toFixed(0)} s`]
      : []),
  ].join('\n');
  console.log(text);
  const outDir = join(ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        when: new Date().toISOString(),
        argv: process.argv.slice(2),
        durationMs: DURATION_MS,
        repeats: REPEATS,
        cpus: cpus().map((c) => c.model),
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        rows,
        rss,
        revocation,
        scale: scaleInfo,
        failures,
      },
      null,
      2,
    ),
  );
  console.log(`\nresults: ${file}`);
  return failures;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
