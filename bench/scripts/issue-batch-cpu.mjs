// Postgres CPU per code-exchange token (issue 13): today's single statement per exchange against TokenIssueBatcher's
// batched calls, on a fresh migrated database, read from the backends' /proc/<pid>/stat (so Postgres on this machine).
// Usage (after `pnpm exec turbo run build --filter @partner-oauth/storage`): node bench/scripts/issue-batch-cpu.mjs [N] [reps]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  codeBinding,
  expiryParams,
  issueTokenQuery,
  migrateToLatest,
  newId,
  openDatabase,
  seedDemoData,
  TokenIssueBatcher,
} from '@partner-oauth/storage';
import { TEST_PASSWORD_PARAMS, TEST_PG_URL } from '@partner-oauth/storage/testing';
import pg from 'pg';

const N = Number(process.argv[2] ?? 4000);
const REPS = Number(process.argv[3] ?? 3);
const CALLERS = 16;
const name = `issue_batch_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: TEST_PG_URL });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(TEST_PG_URL);
url.pathname = `/${name}`;
const db = await openDatabase({ databaseUrl: url.toString(), poolSize: 10 });
try {
  await migrateToLatest(db);
  const ids = await seedDemoData(db, TEST_PASSWORD_PARAMS);
  const appId = ids.apps['Acme Sales'];
  const binding = await codeBinding(db, 'shoplifter', appId);
  // Every exchange of the same partner and app: the case where each one share-locks the same authorization row.
  const input = () => ({
    clientId: 'shoplifter',
    appId,
    accountId: ids.accounts['ada@example.com'],
    scope: 'app:read',
    tokenHash: randomBytes(32).toString('hex'),
    codeHash: randomBytes(32).toString('hex'),
    redirectUri: 'http://localhost:4000/callback',
    binding,
    secretId: null,
    now: new Date(),
    expiry: null,
  });
  const single = async (i) => {
    const rows = await issueTokenQuery(db, {
      authId: newId(),
      tokenId: newId(),
      clientId: i.clientId,
      appId: i.appId,
      accountId: i.accountId,
      scope: i.scope,
      tokenHash: i.tokenHash,
      codeHash: i.codeHash,
      redirectUri: i.redirectUri,
      epoch: i.binding.epoch,
      endedGrants: i.binding.endedGrants,
      ...expiryParams(null),
    });
    if (rows.length !== 1) throw new Error('refused');
  };
  const batched = (batcher) => async (i) => {
    if ((await batcher.issue(i)).status !== 'issued') throw new Error('refused');
  };
  const backends = async () => (await admin.query('select pid from pg_stat_activity where datname = $1', [name])).rows.map((r) => r.pid);
  // utime + stime, in clock ticks of 10 ms.
  const cpuMs = (pids) =>
    pids.reduce((sum, pid) => {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return sum + (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        return sum;
      }
    }, 0);
  async function run(label, issue, callers = CALLERS, n = N) {
    let started = 0;
    const pids = await backends();
    const cpu0 = cpuMs(pids);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (started < n) {
          started++;
          await issue(input());
        }
      }),
    );
    const wall = performance.now() - t0;
    const cpu = cpuMs(pids) - cpu0;
    console.log(
      `${label.padEnd(44)} pg CPU ${String(cpu).padStart(5)} ms = ${(cpu / n).toFixed(3)} ms/token; wall ${wall.toFixed(0)} ms (${Math.round((n / wall) * 1000)}/s)`,
    );
  }
  // Every pool connection open and its statements prepared before anything is counted.
  await Promise.all(Array.from({ length: 40 }, () => single(input())));
  const one = new TokenIssueBatcher(db);
  const two = new TokenIssueBatcher(db, { maxInFlight: 2 });
  await Promise.all(Array.from({ length: 40 }, () => batched(two)(input())));
  console.log(`N=${N} tokens per run, ${CALLERS} concurrent callers, pool of 10`);
  for (let rep = 0; rep < REPS; rep++) {
    await run('single statement per exchange', single);
    await run('TokenIssueBatcher, 1 call in flight', batched(one));
    await run('TokenIssueBatcher, 2 calls in flight', batched(two));
    await run('single statement, 1 caller', single, 1, N / 4);
    await run('TokenIssueBatcher, 1 caller (one-row calls)', batched(one), 1, N / 4);
  }
} finally {
  await db.destroy();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
