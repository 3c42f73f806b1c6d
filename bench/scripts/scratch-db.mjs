// What the Postgres measuring scripts (issue-batch-cpu.mjs, write-cost.mjs) share: a fresh migrated and seeded database
// of their own, one code exchange's write input (the demo partner on one app), that write as the single statement, and
// the CPU its backends have used. Needs the storage package built.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { codeBinding, expiryParams, issueTokenQuery, migrateToLatest, newId, openDatabase, seedDemoData } from '@partner-oauth/storage';
import { TEST_PASSWORD_PARAMS, TEST_PG_URL } from '@partner-oauth/storage/testing';
import pg from 'pg';

/** Creates `<prefix>_<pid>`, migrated and seeded; `close()` drops it. */
export async function scratchDatabase(prefix, poolSize) {
  const name = `${prefix}_${process.pid}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), poolSize });
  const close = async () => {
    await db.destroy();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
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
    /** The Postgres backends serving this database now. */
    const backends = async () => (await admin.query('select pid from pg_stat_activity where datname = $1', [name])).rows.map((r) => r.pid);
    return { db, url: url.toString(), input, backends, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The write of `input` as the older single statement (issueTokenQuery); throws when it is refused. */
export async function singleStatement(db, i) {
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
}

/** utime + stime of `pids` in ms (clock ticks of 10 ms); a process gone meanwhile counts nothing. */
export function cpuMs(pids) {
  return pids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return sum;
    }
  }, 0);
}
