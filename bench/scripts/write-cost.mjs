// Postgres CPU and wall time of one code exchange's write at one connection (issue 13), taken apart: the call the
// product makes (issueTokensFromCodes, which sends a call of one row through issue_token_from_code, migration 0012),
// the batch form's wrapper (issue_tokens_from_unreplayed_codes, 0011) and the function under it (0008) with one row,
// the older single statement, a bare one-row insert with its commit, the wrapper and the insert without the commit's
// WAL flush (a session with synchronous_commit off: for measuring only, never how the product runs), and a round trip.
// One caller, calls in sequence (the pool of one connection, and a client for the raw calls), on a fresh migrated
// database; CPU (ticks of 10 ms) from the backends' /proc/<pid>/stat.
// Usage (after `pnpm exec turbo run build --filter @partner-oauth/storage`): node bench/scripts/write-cost.mjs [calls]
import { issueTokensFromCodes, newId } from '@partner-oauth/storage';
import pg from 'pg';
import { cpuMs, scratchDatabase, singleStatement } from './scratch-db.mjs';

const N = Number(process.argv[2] ?? 600);
const { db, url, input, backends, close } = await scratchDatabase('write_cost', 1);
try {
  const flushed = new pg.Client({ connectionString: url });
  await flushed.connect();
  const unflushed = new pg.Client({ connectionString: url });
  await unflushed.connect();
  await flushed.query('create table scratch (id text primary key, v text)');
  await unflushed.query('set synchronous_commit = off');
  const row = (i) => ({
    ordinal: 0,
    auth_id: newId(),
    token_id: newId(),
    client_id: i.clientId,
    app_id: i.appId,
    account_id: i.accountId,
    scope: i.scope,
    token_hash: i.tokenHash,
    code_hash: i.codeHash,
    redirect_uri: i.redirectUri,
    epoch: i.binding.epoch,
    ended_grants: i.binding.endedGrants,
    secret_id: null,
    now: i.now,
    expiring: null,
    access_lifetime: null,
    idle_lifetime: null,
    absolute_lifetime: null,
    expires_at: null,
    refresh_id: newId(),
    refresh_hash: null,
    refresh_expires_at: null,
    family_expires_at: null,
  });
  /** One row through a batch-form function (`fn`: 0011's wrapper or 0008's), on `client`, as a prepared statement. */
  const batchOfOne = (client, fn) => async (i) => {
    const r = await client.query({
      name: `${fn}_${client === flushed ? 'flushed' : 'unflushed'}`,
      text: `select ordinal, status, authorization_id from ${fn}($1::jsonb)`,
      values: [JSON.stringify([row(i)])],
    });
    if (r.rows[0].status !== 'issued') throw new Error('refused');
  };
  /** A one-row insert into the scratch table, on `client`. */
  const insertOne = (client, name) => () => client.query({ name, text: 'insert into scratch values ($1, $2)', values: [newId(), 'x'] });
  const variants = {
    'the product: issueTokensFromCodes (0012 for one row)': async (i) => {
      const [r] = await issueTokensFromCodes(db, [i]);
      if (r.status !== 'issued') throw new Error(r.status);
    },
    'batch form with one row: wrapper (0011)': batchOfOne(flushed, 'issue_tokens_from_unreplayed_codes'),
    'batch form with one row: under it (0008)': batchOfOne(flushed, 'issue_tokens_from_codes'),
    'single statement (issueTokenQuery)': (i) => singleStatement(db, i),
    'insert one row, commit (fsync)': insertOne(flushed, 'ins'),
    'insert one row, commit without flush (measure only)': insertOne(unflushed, 'ins2'),
    'wrapper, commit without flush (measure only)': batchOfOne(unflushed, 'issue_tokens_from_unreplayed_codes'),
    'select 1 (round trip only)': () => flushed.query({ name: 's1', text: 'select $1::int as x', values: [1] }),
  };
  for (const fn of Object.values(variants)) for (let k = 0; k < 50; k++) await fn(input());
  for (let rep = 0; rep < 3; rep++)
    for (const [label, fn] of Object.entries(variants)) {
      const pids = await backends();
      const c0 = cpuMs(pids);
      const t0 = performance.now();
      for (let k = 0; k < N; k++) await fn(input());
      const wall = performance.now() - t0;
      const cpu = cpuMs(pids) - c0;
      console.log(`${label.padEnd(52)} pg CPU ${(cpu / N).toFixed(3)} ms/call; wall ${(wall / N).toFixed(3)} ms/call`);
    }
  await flushed.end();
  await unflushed.end();
} finally {
  await close();
}
