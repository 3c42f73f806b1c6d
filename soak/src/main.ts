// `pnpm soak --minutes N`: the three services in production mode on real Postgres and Redis, steady mixed traffic, sampled every 30 s.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashPassword, sha256 } from '@partner-oauth/service-kit';
import {
  addAppMember,
  createAccount,
  createAdminKey,
  createApp,
  migrateToLatest,
  openDatabase,
  seedDemoData,
} from '@partner-oauth/storage';
import { verifyWebhookSignature, webhookSigningSecret } from '@partner-oauth/webhooks';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type ProcSample, type Sample, sampleProcess, verdict } from './sample.js';
import { type Account, runWorker, Tally, type Target } from './traffic.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = ['authorize-ui', 'token-service', 'client-registry'] as const;
const PRUNED = ['access_tokens', 'authorizations', 'webhook_deliveries'];

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    workers: { type: 'string', default: '6' },
    'retention-seconds': { type: 'string', default: '90' },
    'sweep-seconds': { type: 'string', default: '30' },
    'sample-seconds': { type: 'string', default: '30' },
    'warmup-seconds': { type: 'string' },
    'log-requests': { type: 'string' },
    json: { type: 'string' },
    // The control: the services sweep only after an hour, so a run shorter than that must fail the rows verdict.
    'no-sweep': { type: 'boolean', default: false },
    // Judges the table a finished run printed (its rows counted as ended, stricter), e.g. after changing the verdict.
    judge: { type: 'string' },
  },
  allowPositionals: true,
});
const minutes = Number(args.minutes);
const workers = Number(args.workers);
const retentionS = Number(args['retention-seconds']);
const sweepS = Number(args['sweep-seconds']);
const sampleS = Number(args['sample-seconds']);
const PG_URL = process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.SOAK_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** The memory request of each service's Deployment in infra/k8s (the verdict's ceiling), in MB. */
function memoryRequests(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of SERVICES) {
    const yaml = readFileSync(`${ROOT}infra/k8s/${name}.yaml`, 'utf8');
    const match = /requests:\s*\n(?:\s+\w+:.*\n)*?\s+memory:\s*(\d+)(Mi|Gi)/.exec(yaml);
    if (match) out[name] = Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
  }
  return out;
}

/** NODE_OPTIONS as the container image sets them. */
function imageNodeOptions(): string {
  const dockerfile = readFileSync(`${ROOT}infra/Dockerfile`, 'utf8');
  return /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1] ?? '';
}

interface Service {
  name: string;
  url: string;
  child: ChildProcess;
  logBytes: number;
  logLines: number;
  stderrTail: string;
}

async function startService(name: string, port: number, env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, [`apps/${name}/dist/server.js`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service: Service = { name, url: `http://127.0.0.1:${port}`, child, logBytes: 0, logLines: 0, stderrTail: '' };
  // The logs are counted (volume per request), not kept.
  const count = (d: Buffer) => {
    service.logBytes += d.length;
    for (const byte of d) if (byte === 10) service.logLines++;
  };
  child.stdout?.on('data', count);
  child.stderr?.on('data', (d: Buffer) => {
    count(d);
    service.stderrTail = (service.stderrTail + d.toString()).slice(-2000);
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${service.stderrTail}`);
    try {
      if ((await fetch(`${service.url}/health/ready`)).ok) return service;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready: ${service.stderrTail}`);
}

/** The removal notices' receiver: a partner's endpoint that checks every signature. */
async function startListener(signingKey: string, clientId: string) {
  const secret = webhookSigningSecret(signingKey, clientId, 1);
  const stats = { received: 0, verified: 0, bad: 0 };
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    stats.received++;
    if (verifyWebhookSignature(secret, req.headers['x-webhook-signature'] as string, Buffer.concat(chunks))) stats.verified++;
    else stats.bad++;
    res.writeHead(204).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/removed`, stats, close: () => server.close() };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

function header(tables: string[]): string {
  const svc = SERVICES.map((s) => `${s.slice(0, 5)} rss/heap/fd/lag`.padStart(24)).join(' ');
  return `${pad('t(s)', 6)} ${pad('req', 8)} ${pad('flows', 6)} ${pad('err', 4)} ${svc} ${tables.map((t) => pad(t.slice(0, 12), 12)).join(' ')} ${pad('redis', 6)}`;
}

function row(s: Sample, tables: string[]): string {
  const svc = SERVICES.map((name) => {
    const p = s.procs[name] as ProcSample;
    return pad(`${fmt(p.rssMb)}/${fmt(p.heapUsedMb)}/${fmt(p.fds)}/${fmt(p.lagP99Ms, 1)}`, 24);
  }).join(' ');
  return `${pad(s.elapsedS, 6)} ${pad(s.requests, 8)} ${pad(s.flows, 6)} ${pad(s.errors, 4)} ${svc} ${tables.map((t) => pad(s.rows[t] ?? '-', 12)).join(' ')} ${pad(s.redisKeys, 6)}`;
}

/** Reads the sample table of a saved run's output back into samples (live rows unknown: counted as ended). */
function samplesFromOutput(text: string): { samples: Sample[]; workers: number; retentionS: number; sweepS: number; sampleS: number } {
  const head = /(\d+) workers, RETENTION_SECONDS=(\d+), RETENTION_SWEEP_SECONDS=(\d+), sampling every (\d+) s/.exec(text);
  if (!head) throw new Error('not the output of a soak run');
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (cells.length !== 4 + SERVICES.length + 5 || !/^\d+$/.test(cells[0] as string)) continue;
    const num = (i: number) => Number(cells[i]);
    const procs = Object.fromEntries(
      SERVICES.map((name, i) => {
        const [rssMb, heapUsedMb, fds, lagP99Ms] = (cells[4 + i] as string).split('/').map(Number) as [number, number, number, number];
        return [name, { rssMb, heapUsedMb, fds, lagP99Ms }];
      }),
    );
    const at = 4 + SERVICES.length;
    const rows = { access_tokens: num(at), authorizations: num(at + 1), webhook_deliveries: num(at + 2), audit_log: num(at + 3) };
    samples.push({
      at: 0,
      elapsedS: num(0),
      requests: num(1),
      flows: num(2),
      errors: num(3),
      procs,
      rows,
      live: {},
      redisKeys: num(at + 4),
      logBytes: {},
    });
  }
  return { samples, workers: Number(head[1]), retentionS: Number(head[2]), sweepS: Number(head[3]), sampleS: Number(head[4]) };
}

async function main(): Promise<void> {
  if (args.judge) {
    const run = samplesFromOutput(readFileSync(args.judge, 'utf8'));
    const last = run.samples.at(-1)?.elapsedS ?? 0;
    const v = verdict(run.samples, {
      warmupS: args['warmup-seconds'] ? Number(args['warmup-seconds']) : Math.max(300, Math.round(last / 5)),
      windowS: run.retentionS + 2 * run.sweepS + run.sampleS,
      inFlight: run.workers,
      memoryRequestMb: memoryRequests(),
      pruned: PRUNED,
    });
    for (const line of v.lines) console.log(line);
    console.log(`VERDICT (memory and rows, from ${run.samples.length} samples): ${v.ok ? 'PASS' : 'FAIL'}`);
    process.exitCode = v.ok ? 0 : 1;
    return;
  }
  if (!(minutes > 0 && workers > 0 && retentionS >= 60 && sweepS >= 1 && sampleS >= 1)) throw new Error('bad arguments');
  const id = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const database = `poauth_soak_${id}`;
  const keyPrefix = `poauth:soak:${id}:`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${database}`;
  const db = await openDatabase({ databaseUrl: dbUrl.toString(), poolSize: 2, queryTimeoutMs: 0 });
  const redis = new Redis(REDIS_URL);
  const services: Service[] = [];
  const signingKey = randomBytes(32).toString('base64url');
  const listener = await startListener(signingKey, 'shoplifter');
  let stopping = false;

  const cleanup = async () => {
    stopping = true;
    await Promise.all(
      services.map(async (s) => {
        if (s.child.exitCode !== null) return;
        s.child.kill('SIGTERM');
        await once(s.child, 'exit');
      }),
    );
    listener.close();
    // Only this run's keys: SCAN its own prefix.
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    await db.destroy();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  };
  process.once('SIGINT', () => {
    stopping = true;
  });

  try {
    await migrateToLatest(db);
    // The demo partner and resource server, then one app owner (two apps) per worker, with production password hashing.
    await seedDemoData(db, { N: 1024, r: 8, p: 1 });
    const redirectUri = 'https://partner.example/callback';
    await db
      .updateTable('clients')
      .set({ remove_url: listener.url, redirect_uris: [redirectUri], require_pkce: true })
      .where('client_id', '=', 'shoplifter')
      .execute();
    const accounts: Account[] = [];
    for (let w = 0; w < workers; w++) {
      const email = `soak-${w}@example.com`;
      const password = `soak-password-${w}`;
      const accountId = await createAccount(db, { email, passwordHash: await hashPassword(password) });
      for (const app of ['A', 'B']) await addAppMember(db, await createApp(db, `Soak ${w} ${app}`), accountId);
      accounts.push({ email, password });
    }
    const adminKey = `poak_${randomBytes(24).toString('base64url')}`;
    await createAdminKey(db, { name: 'soak', keyHash: sha256(adminKey) });

    const ports = { 'authorize-ui': await freePort(), 'token-service': await freePort(), 'client-registry': await freePort() };
    const issuer = 'https://soak.example';
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      ISSUER: issuer,
      TOKEN_SERVICE_PUBLIC_URL: 'https://api.soak.example',
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      WEBHOOK_SIGNING_KEY: signingKey,
      TRUST_PROXY: '1',
      // One address sends everything: the per-address limits are for the internet, not for this.
      LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
      AUTHORIZE_RATE_LIMIT_PER_MINUTE: '1000000',
      // A replayed code counts as a refused one; a replay every seventh flow would trip the per-client limit.
      INVALID_GRANTS_PER_MINUTE: '1000000',
      // The image's V8 limits (infra/Dockerfile), so memory is what a pod would see.
      NODE_OPTIONS: imageNodeOptions(),
      RETENTION_SECONDS: String(retentionS),
      RETENTION_SWEEP_SECONDS: args['no-sweep'] ? '3600' : String(sweepS),
      ...(args['log-requests'] ? { LOG_REQUESTS: args['log-requests'] } : {}),
    };
    // Production refuses to notify a loopback address (the SSRF rule), and the partner endpoint here is on this machine:
    // token-service alone runs in development mode with WEBHOOK_ALLOW_LOOPBACK, which changes nothing else it does.
    const notifier = { NODE_ENV: 'development', WEBHOOK_ALLOW_LOOPBACK: 'true' };
    for (const name of SERVICES)
      services.push(await startService(name, ports[name], name === 'token-service' ? { ...env, ...notifier } : env));
    const target: Target = {
      authorizeUrl: services[0]?.url as string,
      tokenUrl: services[1]?.url as string,
      registryUrl: services[2]?.url as string,
      issuer,
      clientId: 'shoplifter',
      clientSecret: 'secret',
      redirectUri,
      resourceServer: { id: 'platform-api', secret: 'platform-api-secret' },
      adminKey,
    };

    const tables = (
      await db
        .selectFrom('information_schema.tables' as never)
        .select('table_name' as never)
        .where('table_schema' as never, '=', 'public' as never)
        .execute()
    )
      .map((r) => (r as { table_name: string }).table_name)
      .filter((t) => !t.startsWith('kysely_'))
      .sort();
    const shown = [...PRUNED, 'audit_log'];
    const started = Date.now();
    const endAt = started + minutes * 60_000;
    const done = () => stopping || Date.now() >= endAt;
    const tally = new Tally();
    console.log(
      `soak: ${minutes} min, ${workers} workers, RETENTION_SECONDS=${retentionS}, RETENTION_SWEEP_SECONDS=${sweepS}, sampling every ${sampleS} s; NODE_ENV=production (token-service: development with WEBHOOK_ALLOW_LOOPBACK, to notify the local partner), NODE_OPTIONS="${env.NODE_OPTIONS}"; database ${database}`,
    );
    console.log('columns: per service RSS MB / V8 heap used MB / open descriptors / event-loop lag p99 ms; rows per table; redis keys');
    console.log(header(shown));

    const samples: Sample[] = [];
    const takeSample = async () => {
      const procs: Record<string, ProcSample> = {};
      for (const s of services) procs[s.name] = await sampleProcess(s.child.pid as number, s.url);
      const rows: Record<string, number> = {};
      for (const t of tables)
        rows[t] = Number(
          (
            await db
              .selectFrom(t as never)
              .select((e) => e.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const count = async (q: Promise<{ n: string | number | bigint }>) => Number((await q).n);
      const live = {
        access_tokens: await count(
          db
            .selectFrom('access_tokens')
            .select((e) => e.fn.countAll().as('n'))
            .where('revoked_at', 'is', null)
            .executeTakeFirstOrThrow(),
        ),
        authorizations: await count(
          db
            .selectFrom('authorizations')
            .select((e) => e.fn.countAll().as('n'))
            .where('revoked_at', 'is', null)
            .executeTakeFirstOrThrow(),
        ),
        webhook_deliveries: await count(
          db
            .selectFrom('webhook_deliveries')
            .select((e) => e.fn.countAll().as('n'))
            .where('status', '=', 'pending')
            .executeTakeFirstOrThrow(),
        ),
      };
      let redisKeys = 0;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        redisKeys += keys.length;
      } while (cursor !== '0');
      const sample: Sample = {
        at: Date.now(),
        elapsedS: Math.round((Date.now() - started) / 1000),
        requests: tally.requests,
        flows: [...tally.flows.values()].reduce((a, b) => a + b, 0),
        errors: tally.errorCount,
        procs,
        rows,
        live,
        redisKeys,
        logBytes: Object.fromEntries(services.map((s) => [s.name, s.logBytes])),
      };
      samples.push(sample);
      console.log(row(sample, shown));
    };
    const sampler = (async () => {
      await takeSample();
      while (!done()) {
        await new Promise((r) => setTimeout(r, Math.min(sampleS * 1000, Math.max(0, endAt - Date.now()))));
        await takeSample();
      }
    })();
    await Promise.all([...accounts.map((a, i) => runWorker(target, a, done, tally, i)), sampler]);

    const elapsedS = (Date.now() - started) / 1000;
    console.log('');
    console.log(`${tally.requests} requests in ${elapsedS.toFixed(0)} s (${(tally.requests / elapsedS).toFixed(1)}/s); flows by ending:`);
    console.log(`  ${[...tally.flows].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`  requests by path: ${[...tally.byPath].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(
      `removal notices received ${listener.stats.received} (signature verified ${listener.stats.verified}, bad ${listener.stats.bad})`,
    );
    console.log(`errors: ${tally.errorCount}${tally.errorCount ? ` ${JSON.stringify(Object.fromEntries(tally.errors))}` : ''}`);
    for (const e of tally.lastErrors) console.log(`  ${e}`);
    const logs = services.map((s) => `${s.name} ${(s.logBytes / 2 ** 20).toFixed(1)} MB / ${s.logLines} lines`).join(', ');
    const totalLog = services.reduce((n, s) => n + s.logBytes, 0);
    console.log(`logs at LOG_LEVEL=info: ${logs}; ${(((totalLog / tally.requests) * 1000) / 1024).toFixed(0)} kB per 1000 requests`);
    const pending = Number(
      (
        await db
          .selectFrom('webhook_deliveries')
          .select((e) => e.fn.countAll().as('n'))
          .where('status', '=', 'pending')
          .executeTakeFirstOrThrow()
      ).n,
    );
    console.log(`removal notices still pending at the end: ${pending}`);
    // Every key the services left in Redis must expire by itself.
    let withoutTtl = 0;
    let keysNow = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      keysNow += keys.length;
      for (const key of keys) if ((await redis.pttl(key)) === -1) withoutTtl++;
    } while (cursor !== '0');
    console.log(`redis keys at the end: ${keysNow}, without a TTL: ${withoutTtl}`);
    if (args.json) writeFileSync(args.json, JSON.stringify({ args, samples }, null, 1));
    const v = verdict(samples, {
      warmupS: args['warmup-seconds'] ? Number(args['warmup-seconds']) : Math.max(300, (minutes * 60) / 5),
      windowS: retentionS + 2 * sweepS + sampleS,
      inFlight: workers,
      memoryRequestMb: memoryRequests(),
      pruned: PRUNED,
    });
    console.log('');
    for (const line of v.lines) console.log(line);
    // A run with no notice at all proves nothing about them: removals happen in every run, so some must arrive.
    const notified = listener.stats.received > 0 && listener.stats.bad === 0;
    const clean = tally.errorCount === 0 && notified && withoutTtl === 0;
    console.log(`${clean ? 'PASS' : 'FAIL'} no errors, removal notices delivered and every one signed right, every Redis key with a TTL`);
    console.log(`VERDICT: ${v.ok && clean ? 'PASS' : 'FAIL'}`);
    process.exitCode = v.ok && clean ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
