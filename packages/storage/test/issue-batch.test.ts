// The code exchange's batched write (issue_tokens_from_codes, TokenIssueBatcher): per row what today's single statement
// does one at a time, the secret guard, and the batcher's grouping, isolation of a failing row and answer after commit.
import { randomBytes } from 'node:crypto';
import { StoreUnavailableError } from '@partner-oauth/service-kit';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Db, openDatabase } from '../src/db.js';
import {
  type CodeTokenInput,
  type CodeTokenResult,
  codeBinding,
  endAuthorizations,
  endWithin,
  expiryParams,
  issueToken,
  issueTokenQuery,
  issueTokensFromCodes,
  newId,
  revokeTokensFromCode,
  sweepRetention,
  TokenIssueBatcher,
  UnstorableTextError,
} from '../src/index.js';
import { addTestClient, createTestDatabase, liveTokensUnderEndedAuthorizations, rolledBack, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
});
afterAll(() => t.drop());

const hash = () => randomBytes(16).toString('hex');
const app = (name: 'Acme Sales' | 'Acme Support' | 'Grace Shop') => t.ids.apps[name] as string;
const ada = () => t.ids.accounts['ada@example.com'] as string;
const grace = () => t.ids.accounts['grace@example.com'] as string;
const NOW = new Date();

/** An exchange of a fresh code of `clientId` on `appId`, by ada, for app:read, at its registered callback; no binding, no secret. */
function exchange(clientId: string, appId: string, over: Partial<CodeTokenInput> = {}): CodeTokenInput {
  return {
    clientId,
    appId,
    accountId: ada(),
    scope: 'app:read',
    tokenHash: hash(),
    codeHash: hash(),
    redirectUri: `https://${clientId}.example/callback`,
    binding: null,
    secretId: null,
    now: NOW,
    expiry: null,
    ...over,
  };
}

/**
 * What the clients' authorizations and tokens look like, ids of authorizations made by the call under test replaced
 * by what they are (so two runs making their own ids compare), those that existed before kept.
 */
async function state(trx: Db, clientIds: string[], before: Set<string>) {
  const auths = await trx
    .selectFrom('authorizations')
    .select(['id', 'client_id', 'app_id', 'granted_by', 'scope', 'revoked_at'])
    .where('client_id', 'in', clientIds)
    .execute();
  const label = new Map(auths.map((a) => [a.id, before.has(a.id) ? a.id : `new ${a.client_id} ${a.app_id} ${a.revoked_at === null}`]));
  const named = (id: string) => label.get(id) ?? `unknown ${id}`;
  const access = await trx
    .selectFrom('access_tokens')
    .select(['token_hash', 'authorization_id', 'scope', 'code_hash', 'expires_at', 'revoked_at'])
    .where('client_id', 'in', clientIds)
    .orderBy('token_hash')
    .execute();
  const refresh = await trx
    .selectFrom('refresh_tokens')
    .select(['token_hash', 'authorization_id', 'scope', 'code_hash', 'expires_at', 'family_expires_at'])
    .where('client_id', 'in', clientIds)
    .orderBy('token_hash')
    .execute();
  return {
    authorizations: auths
      .map((a) => ({ ...a, id: named(a.id), live: a.revoked_at === null, revoked_at: undefined }))
      .sort((x, y) => x.id.localeCompare(y.id)),
    access: access.map((k) => ({ ...k, authorization_id: named(k.authorization_id) })),
    refresh: refresh.map((k) => ({ ...k, authorization_id: named(k.authorization_id) })),
  };
}

/** Today's single statement (issueTokenQuery, guarded for a code), once per input in order: issued or not. */
async function oneAtATime(trx: Db, inputs: CodeTokenInput[]): Promise<boolean[]> {
  const issued: boolean[] = [];
  for (const i of inputs) {
    const rows = await issueTokenQuery(trx, {
      authId: newId(),
      tokenId: newId(),
      clientId: i.clientId,
      appId: i.appId,
      accountId: i.accountId,
      scope: i.scope,
      tokenHash: i.tokenHash,
      codeHash: i.codeHash,
      redirectUri: i.redirectUri,
      epoch: i.binding?.epoch ?? null,
      endedGrants: i.binding?.endedGrants ?? null,
      ...expiryParams(i.expiry),
    });
    issued.push(rows.length === 1);
  }
  return issued;
}

/** Advisory locks waited for in this database, read every 20 ms (for up to 2 s) until one is: the count last read. */
async function advisoryLockWaiters(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_locks
      where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`.execute(
      t.db,
    );
    const waiting = Number(rows[0]?.n);
    if (waiting > 0 || attempt === 100) return waiting;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const liveAuthorizations = async (clientId: string, appId: string) =>
  t.db
    .selectFrom('authorizations')
    .select(['id', 'granted_by', 'scope'])
    .where('client_id', '=', clientId)
    .where('app_id', '=', appId)
    .where('revoked_at', 'is', null)
    .execute();

describe('issueTokensFromCodes', () => {
  it('writes per row what the single statement writes one at a time: create, join, change, a new pair twice, refused rows among good ones, a refresh token', async () => {
    await addTestClient(t.db, 'ib-a');
    await addTestClient(t.db, 'ib-off');
    await t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', 'ib-off').execute();
    // A live authorization on Acme Sales to join; an ended one on Grace Shop, which a code issued before its end must not outlive.
    const existing = await issueToken(t.db, {
      clientId: 'ib-a',
      appId: app('Acme Sales'),
      accountId: ada(),
      scope: 'app:read',
      tokenHash: hash(),
      codeHash: null,
    });
    const stale = await codeBinding(t.db, 'ib-a', app('Grace Shop'));
    await issueToken(t.db, {
      clientId: 'ib-a',
      appId: app('Grace Shop'),
      accountId: grace(),
      scope: 'app:read',
      tokenHash: hash(),
      codeHash: null,
    });
    await endAuthorizations(t.db, { clientId: 'ib-a', appId: app('Grace Shop') }, 'partner_revoked');
    const binding = async (appId: string) => (await codeBinding(t.db, 'ib-a', appId)) ?? null;
    const [sales, support, shop] = [await binding(app('Acme Sales')), await binding(app('Acme Support')), await binding(app('Grace Shop'))];
    const expiry = {
      accessExpiresAt: new Date(NOW.getTime() + 300_000),
      refreshHash: hash(),
      refreshExpiresAt: new Date(NOW.getTime() + 3_600_000),
      familyExpiresAt: new Date(NOW.getTime() + 86_400_000),
    };
    const inputs = [
      exchange('ib-a', app('Acme Support'), { binding: support }),
      exchange('ib-a', app('Acme Sales'), { binding: sales }),
      exchange('ib-a', app('Acme Support'), { binding: support, accountId: grace() }),
      exchange('ib-a', app('Acme Sales'), { binding: sales, accountId: grace(), scope: 'app:read users:read' }),
      exchange('ib-a', app('Acme Sales'), { binding: sales, redirectUri: 'https://elsewhere.example/cb' }),
      exchange('ib-a', app('Grace Shop'), { binding: stale ?? null }),
      exchange('ib-a', app('Grace Shop'), { binding: shop }),
      exchange('ib-a', app('Acme Sales'), { binding: sales && { ...sales, epoch: '00000000-0000-4000-8000-000000000000' } }),
      exchange('ib-off', app('Acme Sales')),
      exchange('ib-a', app('Acme Sales'), { binding: sales, expiry }),
      exchange('ib-a', app('Acme Support')),
    ];
    const before = new Set((await t.db.selectFrom('authorizations').select('id').execute()).map((a) => a.id));
    const clients = ['ib-a', 'ib-off'];
    const single = await rolledBack(t.db, async (trx) => ({
      issued: await oneAtATime(trx, inputs),
      after: await state(trx, clients, before),
    }));
    const batched = await rolledBack(t.db, async (trx) => {
      const results = await issueTokensFromCodes(trx, inputs);
      return { results, after: await state(trx, clients, before) };
    });
    // Each row in a call of its own (the one-row form, migration 0012: every call at one connection).
    const alone = await rolledBack(t.db, async (trx) => {
      const results: CodeTokenResult[] = [];
      for (const i of inputs) results.push(...(await issueTokensFromCodes(trx, [i])));
      return { results, after: await state(trx, clients, before) };
    });
    expect(batched.after).toEqual(single.after);
    expect(alone.after).toEqual(single.after);
    expect(batched.results.map((r) => r.status === 'issued')).toEqual(single.issued);
    expect(alone.results.map((r) => r.status)).toEqual(batched.results.map((r) => r.status));
    expect(batched.results.map((r) => r.status)).toEqual([
      'issued',
      'issued',
      'issued',
      'issued',
      'grant_ended',
      'grant_ended',
      'issued',
      'grant_ended',
      'client_refused',
      'issued',
      'issued',
    ]);

    // Committed, what each row did.
    const results = await issueTokensFromCodes(t.db, inputs);
    const [created] = await liveAuthorizations('ib-a', app('Acme Support'));
    // The new pair: one authorization, the three tokens under it, granted by the last of them.
    expect(created).toMatchObject({ granted_by: ada(), scope: 'app:read' });
    expect([0, 2, 10].map((i) => results[i]?.authorizationId)).toEqual([created?.id, created?.id, created?.id]);
    // The live one joined, changed by row 3 and changed back by row 9, which also left a refresh token under it.
    expect(await liveAuthorizations('ib-a', app('Acme Sales'))).toEqual([
      { id: existing.authorizationId, granted_by: ada(), scope: 'app:read' },
    ]);
    expect([1, 3, 9].map((i) => results[i]?.authorizationId)).toEqual(Array(3).fill(existing.authorizationId));
    const refresh = await t.db
      .selectFrom('refresh_tokens')
      .select(['authorization_id', 'expires_at'])
      .where('token_hash', '=', expiry.refreshHash)
      .execute();
    expect(refresh).toEqual([{ authorization_id: existing.authorizationId, expires_at: expiry.refreshExpiresAt }]);
    // A refused row wrote nothing.
    for (const i of [4, 5, 7, 8]) {
      expect(results[i]).toEqual({ status: expect.any(String), authorizationId: null, tokenId: null });
      const found = await t.db
        .selectFrom('access_tokens')
        .select('id')
        .where('token_hash', '=', inputs[i]?.tokenHash as string)
        .execute();
      expect(found).toEqual([]);
    }
    const tokenIds = results.flatMap((r) => (r.tokenId ? [r.tokenId] : []));
    expect(await t.db.selectFrom('access_tokens').select('id').where('id', 'in', tokenIds).execute()).toHaveLength(7);
  });

  it('refuses the client (client_refused) for a secret revoked, expired, expiring now, of another client or unknown, and for a disabled client', async () => {
    await addTestClient(t.db, 'ib-s');
    await addTestClient(t.db, 'ib-other');
    const secret = async (clientId: string, values: { revoked_at?: Date; expires_at?: Date } = {}) => {
      const id = newId();
      await t.db
        .insertInto('client_secrets')
        .values({ id, client_id: clientId, secret_hash: hash(), ...values })
        .execute();
      return id;
    };
    const live = await secret('ib-s');
    const later = await secret('ib-s', { expires_at: new Date(NOW.getTime() + 60_000) });
    const revoked = await secret('ib-s', { revoked_at: new Date(NOW.getTime() - 60_000) });
    const expired = await secret('ib-s', { expires_at: new Date(NOW.getTime() - 1_000) });
    const endsNow = await secret('ib-s', { expires_at: NOW });
    const others = await secret('ib-other');
    const appId = app('Acme Sales');
    const cases: [string | null, CodeTokenResult['status']][] = [
      [live, 'issued'],
      [revoked, 'client_refused'],
      [later, 'issued'],
      [expired, 'client_refused'],
      [endsNow, 'client_refused'],
      [others, 'client_refused'],
      ['no-such-secret', 'client_refused'],
      [null, 'issued'],
    ];
    const inputs = cases.map(([secretId]) => exchange('ib-s', appId, { secretId }));
    // One at a time (a call each) and in one call alike.
    const single = await rolledBack(t.db, async (trx) => {
      const out: string[] = [];
      for (const i of inputs) out.push(((await issueTokensFromCodes(trx, [i]))[0] as CodeTokenResult).status);
      return out;
    });
    expect(single).toEqual(cases.map(([, status]) => status));
    expect((await issueTokensFromCodes(t.db, inputs)).map((r) => r.status)).toEqual(cases.map(([, status]) => status));

    // Disabled between the code and its exchange: refused with a live secret or none.
    await t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', 'ib-s').execute();
    const refused = await issueTokensFromCodes(t.db, [exchange('ib-s', appId, { secretId: live }), exchange('ib-s', appId)]);
    expect(refused).toEqual([
      { status: 'client_refused', authorizationId: null, tokenId: null },
      { status: 'client_refused', authorizationId: null, tokenId: null },
    ]);
  });

  it('refuses a row computed from an expiring-token setting the client no longer has (client_changed), writing nothing', async () => {
    await addTestClient(t.db, 'ib-set');
    const appId = app('Acme Sales');
    const on = { accessSeconds: 3600, refreshIdleSeconds: 86_400, refreshAbsoluteSeconds: 864_000 };
    const setting = (values: Record<string, unknown>) =>
      t.db.updateTable('clients').set(values).where('client_id', '=', 'ib-set').execute();
    // Off, as created: rows computed as off (or not saying) are issued, rows computed as on are not.
    const off = await issueTokensFromCodes(t.db, [
      exchange('ib-set', appId, { lifetimes: null }),
      exchange('ib-set', appId, { lifetimes: on }),
      exchange('ib-set', appId),
    ]);
    expect(off.map((r) => r.status)).toEqual(['issued', 'client_changed', 'issued']);
    await setting({
      expiring_tokens: true,
      access_token_lifetime: 3600,
      refresh_token_idle_lifetime: 86_400,
      refresh_token_absolute_lifetime: 864_000,
    });
    const flipped = await issueTokensFromCodes(t.db, [
      exchange('ib-set', appId, { lifetimes: null }),
      exchange('ib-set', appId, { lifetimes: on }),
      exchange('ib-set', appId, { lifetimes: { ...on, accessSeconds: 600 } }),
    ]);
    expect(flipped.map((r) => r.status)).toEqual(['client_changed', 'issued', 'client_changed']);
    const written = await t.db.selectFrom('access_tokens').select('id').where('client_id', '=', 'ib-set').execute();
    expect(written).toHaveLength(3);
  });

  it('ends the grant (grant_ended) of a code whose authorization ended between its issue and its exchange', async () => {
    await addTestClient(t.db, 'ib-end');
    const appId = app('Grace Shop');
    const first = await issueTokensFromCodes(t.db, [
      exchange('ib-end', appId, { binding: (await codeBinding(t.db, 'ib-end', appId)) ?? null }),
    ]);
    expect(first[0]?.status).toBe('issued');
    const binding = (await codeBinding(t.db, 'ib-end', appId)) ?? null;
    await endAuthorizations(t.db, { clientId: 'ib-end', appId }, 'admin_removed');
    const after = await issueTokensFromCodes(t.db, [exchange('ib-end', appId, { binding }), exchange('ib-end', appId, { binding })]);
    expect(after.map((r) => r.status)).toEqual(['grant_ended', 'grant_ended']);
    expect(await liveAuthorizations('ib-end', appId)).toEqual([]);
  });

  it('keeps a code good when the retention sweep deletes its pair’s old ended authorizations, and still refuses it after a new end', async () => {
    await addTestClient(t.db, 'ib-swept');
    const appId = app('Acme Support');
    // Two ended authorizations of the pair, then a live one.
    for (let i = 0; i < 2; i++) {
      await issueTokensFromCodes(t.db, [exchange('ib-swept', appId)]);
      await endAuthorizations(t.db, { clientId: 'ib-swept', appId }, 'admin_removed');
    }
    await issueTokensFromCodes(t.db, [exchange('ib-swept', appId)]);
    const binding = (await codeBinding(t.db, 'ib-swept', appId)) ?? null;
    expect(binding?.endedGrants).toBe(2);
    // The sweep, an hour on, deletes the ended authorizations (and their tokens) while the code is out.
    const swept = await sweepRetention(t.db, { now: new Date(Date.now() + 3_600_000), retentionSeconds: 60, auditRetentionSeconds: 60 });
    expect(swept.deleted.authorizations).toBeGreaterThanOrEqual(2);
    expect((await issueTokensFromCodes(t.db, [exchange('ib-swept', appId, { binding })]))[0]?.status).toBe('issued');
    // An end after the code was bound still voids it.
    const later = (await codeBinding(t.db, 'ib-swept', appId)) ?? null;
    await endAuthorizations(t.db, { clientId: 'ib-swept', appId }, 'admin_removed');
    expect((await issueTokensFromCodes(t.db, [exchange('ib-swept', appId, { binding: later })]))[0]?.status).toBe('grant_ended');
    expect((await codeBinding(t.db, 'ib-swept', appId))?.endedGrants).toBe(3);
  });

  it('fails as a whole on a bad row (a duplicate token hash), writing nothing', async () => {
    await addTestClient(t.db, 'ib-dup');
    const taken = exchange('ib-dup', app('Acme Sales'));
    await issueTokensFromCodes(t.db, [taken]);
    const good = exchange('ib-dup', app('Acme Support'));
    await expect(issueTokensFromCodes(t.db, [good, { ...taken, codeHash: hash() }])).rejects.toThrow(/duplicate key/);
    expect(await liveAuthorizations('ib-dup', app('Acme Support'))).toEqual([]);
  });

  // Two batches take the pairs' authorizations in (client, app) order, and so does an end of every authorization of a
  // client: however the rows lie, no two of them wait on each other in a cycle (Postgres would abort one as deadlocked).
  it('a batch over several apps of a client racing the end of all of them neither deadlocks nor leaves a live token under an ended authorization', {
    timeout: 60_000,
  }, async () => {
    await addTestClient(t.db, 'ib-race');
    const apps = [app('Acme Sales'), app('Acme Support'), app('Grace Shop')].sort().reverse();
    for (let round = 0; round < 15; round++) {
      // Made in descending app order, so a scan in physical order meets them opposite to the batch.
      for (const appId of apps)
        await issueToken(t.db, { clientId: 'ib-race', appId, accountId: ada(), scope: 'app:read', tokenHash: hash(), codeHash: null });
      const rows = apps.flatMap((appId) => [exchange('ib-race', appId, { accountId: grace() }), exchange('ib-race', appId)]);
      const [issued, ended] = await Promise.all([
        issueTokensFromCodes(t.db, rows),
        // With the small table's plan forced to a scan in physical order, as a large table's bitmap scan would be.
        t.db.transaction().execute(async (trx) => {
          await sql`set local enable_indexscan = off`.execute(trx);
          await sql`set local enable_bitmapscan = off`.execute(trx);
          return endWithin(trx, { clientId: 'ib-race' }, 'admin_removed', undefined);
        }),
      ]);
      expect(issued.map((r) => r.status)).toEqual(Array(rows.length).fill('issued'));
      expect(ended.length).toBeGreaterThan(0);
      await endAuthorizations(t.db, { clientId: 'ib-race' }, 'admin_removed');
    }
    expect(await liveTokensUnderEndedAuthorizations(t.db)).toEqual([]);
  });
});

describe('replayed codes (migration 0011)', () => {
  it('writes nothing for a code a replay marked first: replayed, and the other rows go on', async () => {
    await addTestClient(t.db, 'ib-replayed');
    const marked = exchange('ib-replayed', app('Acme Sales'));
    expect(await revokeTokensFromCode(t.db, marked.codeHash as string)).toBe(0);
    const other = exchange('ib-replayed', app('Acme Sales'));
    const results = await issueTokensFromCodes(t.db, [marked, other]);
    expect(results.map((r) => r.status)).toEqual(['replayed', 'issued']);
    const written = await t.db.selectFrom('access_tokens').select('token_hash').where('client_id', '=', 'ib-replayed').execute();
    expect(written.map((w) => w.token_hash)).toEqual([other.tokenHash]);
    // Alone in its call too (the one-row form).
    const markedAlone = exchange('ib-replayed', app('Acme Sales'));
    await revokeTokensFromCode(t.db, markedAlone.codeHash as string);
    expect((await issueTokensFromCodes(t.db, [markedAlone])).map((r) => r.status)).toEqual(['replayed']);
  });

  it('a redemption written while a replay of its code holds the lock waits, then sees the marker: replayed, nothing written', async () => {
    await addTestClient(t.db, 'ib-replay-first');
    const replayer = await openDatabase({ databaseUrl: t.url, poolSize: 1 });
    try {
      for (const size of [1, 2]) {
        const input = exchange('ib-replay-first', app('Grace Shop'));
        const rows = size === 1 ? [input] : [input, exchange('ib-replay-first', app('Grace Shop'))];
        let write: Promise<CodeTokenResult[]> | undefined;
        await replayer.transaction().execute(async (trx) => {
          await revokeTokensFromCode(trx, input.codeHash as string);
          write = issueTokensFromCodes(t.db, rows);
          // The write is waiting on the code's lock (its marker not committed yet), not answered.
          expect(await advisoryLockWaiters()).toBe(1);
        });
        expect((await (write as Promise<CodeTokenResult[]>)).map((r) => r.status)).toEqual(
          size === 1 ? ['replayed'] : ['replayed', 'issued'],
        );
        const found = await t.db.selectFrom('access_tokens').select('id').where('token_hash', '=', input.tokenHash).execute();
        expect(found).toEqual([]);
      }
    } finally {
      await replayer.destroy();
    }
  });

  it('a replay reaching Postgres while the redemption is being written waits for its commit, then revokes its token', async () => {
    await addTestClient(t.db, 'ib-race-replay');
    const other = await openDatabase({ databaseUrl: t.url, poolSize: 1 });
    try {
      for (let round = 0; round < 3; round++) {
        const input = exchange('ib-race-replay', app('Grace Shop'));
        let replay: Promise<number> | undefined;
        let settledEarly = false;
        await t.db.transaction().execute(async (trx) => {
          expect((await issueTokensFromCodes(trx, [input]))[0]?.status).toBe('issued');
          replay = revokeTokensFromCode(other, input.codeHash as string);
          void replay.then(() => {
            settledEarly = true;
          });
          // The replay is waiting on the code's lock (seen from a third connection), not done.
          await advisoryLockWaiters();
          expect(settledEarly).toBe(false);
        });
        expect(await replay).toBe(1);
        const row = await t.db
          .selectFrom('access_tokens')
          .select('revoked_at')
          .where('token_hash', '=', input.tokenHash)
          .executeTakeFirstOrThrow();
        expect(row.revoked_at).not.toBeNull();
      }
    } finally {
      await other.destroy();
    }
  });

  it('keeps a marker for the life asked, and the retention sweep prunes it after', async () => {
    const codeHash = hash();
    await revokeTokensFromCode(t.db, codeHash, 60_000);
    const marker = await t.db.selectFrom('replayed_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirstOrThrow();
    const life = new Date(marker.expires_at).getTime() - Date.now();
    expect(life).toBeGreaterThan(50_000);
    expect(life).toBeLessThanOrEqual(61_000);
    const swept = await sweepRetention(t.db, { now: new Date(Date.now() + 3_600_000), retentionSeconds: 600, auditRetentionSeconds: 600 });
    expect(swept.deleted.replayed_codes).toBeGreaterThanOrEqual(1);
    expect(await t.db.selectFrom('replayed_codes').select('code_hash').where('code_hash', '=', codeHash).execute()).toEqual([]);
  });
});

describe('TokenIssueBatcher', () => {
  /** A batcher whose calls are recorded (their sizes) around the real issueTokensFromCodes. */
  function counted() {
    const calls: number[] = [];
    const batcher = new TokenIssueBatcher(t.db, {
      write: (db, inputs) => {
        calls.push(inputs.length);
        return issueTokensFromCodes(db, inputs);
      },
    });
    return { batcher, calls };
  }

  it('sends a lone input at once, and the inputs that arrive while it is in flight together in the next call', async () => {
    await addTestClient(t.db, 'ib-group');
    const { batcher, calls } = counted();
    const inputs = Array.from({ length: 20 }, (_, i) => exchange('ib-group', app(i % 2 ? 'Acme Sales' : 'Grace Shop')));
    const results = await Promise.all(inputs.map((i) => batcher.issue(i)));
    expect(calls).toEqual([1, 19]);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('issued'));
    // Each caller gets its own token.
    const rows = await t.db.selectFrom('access_tokens').select(['id', 'token_hash']).where('client_id', '=', 'ib-group').execute();
    const byHash = new Map(rows.map((r) => [r.token_hash, r.id]));
    expect(results.map((r) => r.tokenId)).toEqual(inputs.map((i) => byHash.get(i.tokenHash)));
  });

  it('fails only the caller whose row fails the call (a duplicate token hash): the others are issued one per call', async () => {
    await addTestClient(t.db, 'ib-bad');
    const { batcher, calls } = counted();
    const taken = exchange('ib-bad', app('Acme Sales'));
    await issueTokensFromCodes(t.db, [taken]);
    const lead = batcher.issue(exchange('ib-bad', app('Acme Sales')));
    const grouped = [exchange('ib-bad', app('Acme Sales')), { ...taken, codeHash: hash() }, exchange('ib-bad', app('Grace Shop'))];
    const settled = await Promise.allSettled([lead, ...grouped.map((i) => batcher.issue(i))]);
    expect(calls).toEqual([1, 3, 1, 1, 1]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/duplicate key/);
    expect(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.status] : []))).toEqual(['issued', 'issued', 'issued']);
  });

  it('does not retry row by row a call lost with its connection (it may have committed): every caller hears the 503 cause', async () => {
    await addTestClient(t.db, 'ib-lost');
    const calls: number[] = [];
    const lost = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const batcher = new TokenIssueBatcher(t.db, {
      write: async (_db, inputs) => {
        calls.push(inputs.length);
        throw lost;
      },
    });
    const settled = await Promise.allSettled(Array.from({ length: 4 }, () => batcher.issue(exchange('ib-lost', app('Acme Sales')))));
    expect(calls).toEqual([1, 3]);
    expect(settled.map((s) => (s.status === 'rejected' ? s.reason : s.value))).toEqual([lost, lost, lost, lost]);
  });

  it('says a call was never sent when no connection could be had (StoreUnavailableError.unsent)', async () => {
    const unreachable = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere' });
    try {
      const batcher = new TokenIssueBatcher(unreachable);
      const err = await batcher.issue(exchange('ib-lost', app('Acme Sales'))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).unsent).toBe(true);
    } finally {
      await unreachable.destroy();
    }
  });

  it('refuses an input holding a NUL character alone, as the NUL guard does, without sending it', async () => {
    const { batcher, calls } = counted();
    await expect(batcher.issue(exchange('ib-bad', app('Acme Sales'), { scope: 'app:read\u0000' }))).rejects.toBeInstanceOf(
      UnstorableTextError,
    );
    expect(calls).toEqual([]);
  });

  it('answers a caller only once its batch committed: its token is visible from another connection', async () => {
    await addTestClient(t.db, 'ib-commit');
    const { batcher } = counted();
    const other = new pg.Pool({ connectionString: t.url, max: 1 });
    try {
      const inputs = Array.from({ length: 10 }, () => exchange('ib-commit', app('Acme Support')));
      const seen = await Promise.all(
        inputs.map(async (i) => {
          await batcher.issue(i);
          const { rows } = await other.query('select 1 from access_tokens where token_hash = $1', [i.tokenHash]);
          return rows.length;
        }),
      );
      expect(seen).toEqual(Array(10).fill(1));
    } finally {
      await other.end();
    }
  });
});
