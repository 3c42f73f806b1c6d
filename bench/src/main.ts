// `pnpm bench`: the product in production mode (each app its own process, real Postgres and Redis on
// loopback) under a closed-loop load generator, beside a bare Fastify ceiling in the same run.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@partner-oauth/service-kit';
import { createAdminKey, migrateToLatest, openDatabase, seedDemoData } from '@partner-oauth/storage';
import pg from 'pg';
import { Browser, exchange, send, Target } from './clients.js';
import { snapshot, usage } from './cpu.js';
import { type LoadResult, median, runLoad } from './load.js';
import { freePort, type Proc, peakRssMb, ROOT, start, stop } from './processes.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
/** `--only=exchange,introspection`: run just those scenarios (and the ceiling), e.g. while profiling. */
const only = [...args]
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wants = (name: string) => !only || only.includes(name);
/** `--profile`: the services write V8 CPU profiles (--cpu-prof) under bench-results/profiles. */
const profile = args.has('--profile');
const DURATION_MS = quick ? 1500 : 5000;
const REPEATS = 3;
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const AUTH_QUERY = 'client_id=shoplifter&response_type=code&state=bench&scope=app:read';

interface Row {
  scenario: string;
  concurrency: number;
  unit: string;
  result: LoadResult;
  ceiling?: 'get' | 'post';
  target?: { min: number; p99Max?: number };
}

function dbUrl(name: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function repeat(label: string, run: () => Promise<LoadResult>): Promise<LoadResult> {
  const results: LoadResult[] = [];
  for (let i = 0; i < REPEATS; i++) results.push(await run());
  const m = median(results);
  const cpu = Object.entries(m.componentCpu ?? {})
    .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
    .join(', ');
  process.stderr.write(
    `  ${label}: ${m.throughput.toFixed(0)}/s (runs: ${results.map((r) => r.throughput.toFixed(0)).join(', ')}); CPU: ${cpu}\n`,
  );
  return m;
}

async function embeddedStartup(): Promise<{ firstMs: number; againMs: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'poauth-bench-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const env = {
    DATA_DIR: dataDir,
    AUTHORIZE_UI_PORT: String(ports[0]),
    TOKEN_SERVICE_PORT: String(ports[1]),
    CLIENT_REGISTRY_PORT: String(ports[2]),
    DATABASE_URL: '',
    REDIS_URL: '',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  };
  const timeOne = async () => {
    const t0 = performance.now();
    const proc = await start('standalone', 'apps/standalone/dist/main.js', env, ports[0] as number);
    const ms = performance.now() - t0;
    await stop(proc);
    return ms;
  };
  try {
    return { firstMs: await timeOne(), againMs: await timeOne() };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const dbName = `poauth_bench_${runId}`;
  const keyPrefix = `poauth-bench:${runId}:`;
  await adminQuery(`create database ${dbName}`);
  const procs: Proc[] = [];
  const targets: Target[] = [];
  try {
    const db = await openDatabase({ databaseUrl: dbUrl(dbName) });
    await migrateToLatest(db);
    await seedDemoData(db);
    const adminKey = `poak_${randomBytes(32).toString('base64url')}`;
    await createAdminKey(db, { name: 'bench', keyHash: sha256(adminKey) });
    await db.destroy();

    const secrets = { SESSION_SECRET: randomBytes(32).toString('hex'), WEBHOOK_SIGNING_KEY: randomBytes(32).toString('hex') };
    const common = {
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      DATABASE_URL: dbUrl(dbName),
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      ISSUER: 'https://auth.bench.invalid',
      TOKEN_SERVICE_PUBLIC_URL: 'https://api.bench.invalid',
      // Behind a TLS-terminating gateway, as in production (the bench sends X-Forwarded-Proto: https).
      TRUST_PROXY: '1',
      // The bench drives thousands of flows a second from one address: lift the per-address limits.
      AUTHORIZE_RATE_LIMIT_PER_MINUTE: '100000000',
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      ...secrets,
    };
    const [pCeil, pUi, pToken, pReg, pRs] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const ceiling = await start('ceiling', 'bench/dist/ceiling-server.js', {}, pCeil);
    // The services' own start flags (their package.json `start` and the container's NODE_OPTIONS).
    const nodeArgs = [
      ...(process.env.BENCH_NODE_ARGS ?? '--max-semi-space-size=4 --max-old-space-size=96').split(' ').filter(Boolean),
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench-results', 'profiles')}`] : []),
    ];
    const ui = await start('authorize-ui', 'apps/authorize-ui/dist/server.js', common, pUi, { nodeArgs });
    const token = await start('token-service', 'apps/token-service/dist/server.js', common, pToken, { nodeArgs });
    const registry = await start('client-registry', 'apps/client-registry/dist/server.js', common, pReg, { nodeArgs });
    const verifier = await start(
      'verifier',
      'bench/dist/verifier-server.js',
      { TOKEN_SERVICE_URL: token.url, RS_ID: 'platform-api', RS_SECRET: 'platform-api-secret' },
      pRs,
    );
    procs.push(ceiling, ui, token, registry, verifier);

    const C = 16;
    const tCeil = new Target(ceiling.url, C);
    const tUi = new Target(ui.url, C);
    const tToken = new Target(token.url, C);
    const tReg = new Target(registry.url, C);
    const tRs = new Target(verifier.url, C);
    targets.push(tCeil, tUi, tToken, tReg, tRs);

    const browsers = await Promise.all(
      Array.from({ length: C }, async () => {
        const b = new Browser(tUi);
        await b.login('grace@example.com', 'hopper-1906');
        return b;
      }),
    );
    const rows: Row[] = [];
    const pids = {
      'authorize-ui': ui.child.pid,
      'token-service': token.child.pid,
      'client-registry': registry.child.pid,
      verifier: verifier.child.pid,
      ceiling: ceiling.child.pid,
    };
    const load = async (concurrency: number, operation: (w: number) => Promise<boolean | undefined>) => {
      const before = snapshot(pids);
      const result = await runLoad({ concurrency, durationMs: DURATION_MS, operation });
      const componentCpu = Object.fromEntries(
        Object.entries(usage(before, snapshot(pids), result.durationMs)).filter(([, v]) => v >= 0.01),
      );
      return { ...result, componentCpu };
    };
    const ok = (status: number) => async (p: Promise<{ status: number }>) => (await p).status === status;

    process.stderr.write(
      `bench: ${quick ? 'quick' : 'full'} run, ${DURATION_MS} ms x ${REPEATS} per figure, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})\n`,
    );

    const form150 = {
      grant_type: 'authorization_code',
      code: 'x'.repeat(43),
      client_id: 'shoplifter',
      client_secret: 'secret-of-medium-size',
    };
    rows.push({
      scenario: 'ceiling: bare Fastify JSON GET',
      concurrency: C,
      unit: 'req',
      result: await repeat('ceiling GET', () => load(C, () => ok(200)(send(tCeil, 'GET', '/json')))),
    });
    rows.push({
      scenario: 'ceiling: bare Fastify form POST',
      concurrency: C,
      unit: 'req',
      result: await repeat('ceiling POST', () => load(C, () => ok(200)(send(tCeil, 'POST', '/form', { form: form150 })))),
    });

    // Codes minted through the real decision path, then each redeemed once.
    for (const c of wants('exchange') ? [1, C] : []) {
      const result = await repeat(`exchange c${c}`, async () => {
        const codes: string[] = [];
        const want = Math.ceil((c === 1 ? 2500 : 6000) * (DURATION_MS / 1000));
        await Promise.all(
          browsers.map(async (b) => {
            while (codes.length < want) codes.push(await b.mintCode(AUTH_QUERY));
          }),
        );
        return load(c, async () => {
          const code = codes.pop();
          if (!code) throw new Error('ran out of minted codes');
          await exchange(tToken, code);
          return true;
        });
      });
      rows.push({
        scenario: 'code -> token exchange',
        concurrency: c,
        unit: 'exchange',
        result,
        ceiling: 'post',
        ...(c === C ? { target: { min: 3000, p99Max: 25 } } : {}),
      });
    }

    for (const c of wants('flow') ? [1, C] : []) {
      const result = await repeat(`full flow c${c}`, () =>
        load(c, async (w) => {
          await exchange(tToken, await (browsers[w] as Browser).mintCode(AUTH_QUERY));
          return true;
        }),
      );
      rows.push({
        scenario: 'full flow (authorize, consent, decision, token)',
        concurrency: c,
        unit: 'flow',
        result,
        ceiling: 'get',
        ...(c === C ? { target: { min: 450 } } : {}),
      });
    }

    const accessToken = await exchange(tToken, await (browsers[0] as Browser).mintCode(AUTH_QUERY));
    const rsAuth = { authorization: `Basic ${Buffer.from('platform-api:platform-api-secret').toString('base64')}` };
    const introspect = () => send(tToken, 'POST', '/oauth/introspect', { headers: rsAuth, form: { token: accessToken } });
    if (wants('introspection'))
      rows.push({
        scenario: 'introspection (RFC 7662)',
        concurrency: C,
        unit: 'req',
        ceiling: 'post',
        target: { min: 5500, p99Max: 15 },
        result: await repeat('introspection', () => load(C, async () => (await introspect()).body.startsWith('{"active":true'))),
      });
    const bearer = { authorization: `Bearer ${accessToken}` };
    if (wants('verifier'))
      rows.push({
        scenario: 'resource-server verifier (fastify-bearer)',
        concurrency: C,
        unit: 'req',
        ceiling: 'get',
        target: { min: 5500, p99Max: 15 },
        result: await repeat('verifier', () => load(C, () => ok(200)(send(tRs, 'GET', '/v1/app', { headers: bearer })))),
      });
    if (wants('registry'))
      rows.push({
        scenario: 'client registry: get client',
        concurrency: C,
        unit: 'req',
        ceiling: 'get',
        result: await repeat('registry', () =>
          load(C, () => ok(200)(send(tReg, 'GET', '/v1/clients/shoplifter', { headers: { authorization: `Bearer ${adminKey}` } }))),
        ),
      });

    // Speed is never bought with stale answers: revoke, then time until each check refuses the token.
    const revokedAt = performance.now();
    const revoke = await send(tToken, 'POST', '/oauth/revoke', {
      form: { token: accessToken, client_id: 'shoplifter', client_secret: 'secret' },
    });
    if (revoke.status !== 200) throw new Error(`revoke failed: ${revoke.status}`);
    const introspectRefusedMs = (await introspect()).body === '{"active":false}' ? performance.now() - revokedAt : Number.NaN;
    let verifierRefusedMs = Number.NaN;
    while (performance.now() - revokedAt < 3000) {
      if ((await send(tRs, 'GET', '/v1/app', { headers: bearer })).status === 401) {
        verifierRefusedMs = performance.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }

    const rss = Object.fromEntries([ui, token, registry, verifier].map((p) => [p.name, Math.round(peakRssMb(p.child.pid))]));
    const startup = wants('startup') ? await embeddedStartup() : { firstMs: Number.NaN, againMs: Number.NaN };
    report(rows, rss, { introspectRefusedMs, verifierRefusedMs }, startup);
  } finally {
    await Promise.all(targets.map((t) => t.close()));
    await Promise.all(procs.map(stop));
    await adminQuery(`drop database if exists ${dbName} with (force)`).catch(() => {});
    const { Redis } = await import('ioredis').catch(() => ({ Redis: undefined }));
    if (Redis) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  }
}

function report(
  rows: Row[],
  rss: Record<string, number>,
  revocation: { introspectRefusedMs: number; verifierRefusedMs: number },
  startup: { firstMs: number; againMs: number },
): void {
  const ceil = {
    get: rows.find((r) => r.scenario.startsWith('ceiling: bare Fastify JSON'))?.result.throughput ?? Number.NaN,
    post: rows.find((r) => r.scenario.startsWith('ceiling: bare Fastify form'))?.result.throughput ?? Number.NaN,
  };
  const lines = [
    `| scenario | c | per second | p50 ms | p99 ms | errors | driver CPU | of ceiling | target |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---|`,
  ];
  for (const r of rows) {
    const x = r.result;
    const fraction = r.ceiling ? `${((x.throughput / ceil[r.ceiling]) * 100).toFixed(0)}% of ${r.ceiling.toUpperCase()}` : '—';
    const target = r.target
      ? `${x.throughput >= r.target.min && (r.target.p99Max === undefined || x.p99Ms <= r.target.p99Max) ? 'met' : 'MISSED'} (>= ${r.target.min}/s${r.target.p99Max ? `, p99 <= ${r.target.p99Max} ms` : ''})`
      : '';
    lines.push(
      `| ${r.scenario} | ${r.concurrency} | ${x.throughput.toFixed(0)} ${r.unit}s | ${x.p50Ms.toFixed(2)} | ${x.p99Ms.toFixed(2)} | ${x.errors}${x.firstError ? ` (${x.firstError.slice(0, 40)})` : ''} | ${(x.driverCpu * 100).toFixed(0)}% | ${fraction} | ${target} |`,
    );
  }
  const text = [
    lines.join('\n'),
    '',
    `peak RSS (MB): ${Object.entries(rss)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (target <= 150 each)`,
    `revoked token refused: introspection after ${revocation.introspectRefusedMs.toFixed(0)} ms, verifier after ${revocation.verifierRefusedMs.toFixed(0)} ms (target <= 1000)`,
    `embedded start (pnpm start's process) ready: ${startup.firstMs.toFixed(0)} ms on a new data folder, ${startup.againMs.toFixed(0)} ms again (target <= 5000)`,
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
        quick,
        durationMs: DURATION_MS,
        repeats: REPEATS,
        cpus: cpus().map((c) => c.model),
        node: process.version,
        rows,
        rss,
        revocation,
        startup,
      },
      null,
      2,
    ),
  );
  console.log(`\nresults: ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
