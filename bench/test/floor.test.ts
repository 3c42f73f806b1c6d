// The durable floor (bench/src/floor/server.ts with DATABASE_URL) is a bound only if it does what the product must:
// each token answered after its hash is committed to Postgres, never before.
import { sha256 } from '@partner-oauth/service-kit';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { freePort, type Service, startProcess, stopProcess } from '@partner-oauth/test-support/processes';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

let t: TestDatabase;
let floor: Service;
let admin: pg.Client;

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const exchange = (code: string) =>
  fetch(`${floor.url}/oauth/token`, { method: 'POST', headers: form, body: `grant_type=authorization_code&code=${code}` });
const stored = async (token: string) =>
  (await admin.query('select 1 from floor_tokens where token_hash = $1', [sha256(token)])).rowCount === 1;

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  const port = await freePort();
  floor = await startProcess(
    'floor-durable',
    [process.execPath, 'bench/dist/floor/server.js'],
    { PORT: String(port), DATABASE_URL: t.url },
    [`http://127.0.0.1:${port}`],
  );
  admin = new pg.Client({ connectionString: t.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await stopProcess(floor);
  await t?.drop();
});

it('answers each token, the tokens of concurrent requests too, only with its hash committed', async () => {
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => exchange(`code-${i}`)));
  const tokens = await Promise.all(
    answers.map(async (res) => {
      expect(res.status).toBe(200);
      return ((await res.json()) as { access_token: string }).access_token;
    }),
  );
  expect(new Set(tokens).size).toBe(20);
  for (const token of tokens) expect(await stored(token)).toBe(true);
});

it('holds the answer while the write cannot commit, and sends it once it has', async () => {
  // A transaction holding the table's lock: the floor's insert waits on it, as a commit would wait on the disk.
  await admin.query('begin');
  await admin.query('lock table floor_tokens in access exclusive mode');
  let answered = false;
  const pending = exchange('held').then((res) => {
    answered = true;
    return res;
  });
  await new Promise((r) => setTimeout(r, 500));
  expect(answered).toBe(false);
  await admin.query('commit');
  const res = await pending;
  expect(res.status).toBe(200);
  expect(await stored(((await res.json()) as { access_token: string }).access_token)).toBe(true);
});
