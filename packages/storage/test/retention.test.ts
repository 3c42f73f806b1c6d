// The retention sweep on real Postgres: what ended before the window goes, what is live or pending stays, one sweeper at a time.
import { FakeClock, sha256 } from '@partner-oauth/service-kit';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  addAppMember,
  appendAudit,
  createApp,
  endAuthorizations,
  findActiveToken,
  issueToken,
  listClientAuthorizations,
  listConnectedIntegrations,
  type RetentionResult,
  revokeClientToken,
  revokeTokensFromCode,
  rotateRefreshToken,
  startRetentionSweeper,
  sweepRetention,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

const RETENTION = 3600;
const AUDIT_RETENTION = 400 * 86_400;
const CLIENT = 'shoplifter';

let t: TestDatabase;
let ada: string;
beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  ada = t.ids.accounts['ada@example.com'] as string;
});
afterAll(() => t.drop());

/** A fresh app of ada's with one consent (a live authorization and its token). */
async function consent(label: string) {
  const appId = await createApp(t.db, `${label} ${Math.random()}`);
  await addAppMember(t.db, appId, ada);
  const token = `tok-${label}-${Math.random()}`;
  const code = `code-${label}-${Math.random()}`;
  const issued = await issueToken(t.db, {
    clientId: CLIENT,
    appId,
    accountId: ada,
    scope: 'app:read',
    tokenHash: sha256(token),
    codeHash: sha256(code),
  });
  return { appId, token, code, ...issued };
}

/** The database's now(), which stamps revoked_at and created_at: the fake clock starts from it. */
async function dbNow(): Promise<number> {
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(t.db);
  return (rows[0] as { now: Date }).now.getTime();
}

const sweep = (clock: FakeClock, extra: { batchSize?: number; maxBatches?: number } = {}) =>
  sweepRetention(t.db, { now: new Date(clock.now()), retentionSeconds: RETENTION, auditRetentionSeconds: AUDIT_RETENTION, ...extra });

const exists = async (table: 'access_tokens' | 'authorizations' | 'webhook_deliveries', id: string) =>
  (await t.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

describe('retention sweep', () => {
  it('deletes a revoked access token once the window has passed, keeps it before, and keeps live tokens for ever', async () => {
    const revoked = await consent('revoked-token');
    // A second token under the same authorization keeps it live when the first is revoked (RFC 7009).
    const live = await issueToken(t.db, {
      clientId: CLIENT,
      appId: revoked.appId,
      accountId: ada,
      scope: 'app:read',
      tokenHash: sha256(`live-${Math.random()}`),
      codeHash: null,
    });
    expect(await revokeClientToken(t.db, sha256(revoked.token), CLIENT)).toBe(true);
    const clock = new FakeClock(await dbNow());

    clock.advance((RETENTION - 60) * 1000);
    await sweep(clock);
    expect(await exists('access_tokens', revoked.tokenId)).toBe(true);

    clock.advance(120 * 1000);
    const result = await sweep(clock);
    expect(result.swept).toBe(true);
    expect(result.deleted.access_tokens).toBeGreaterThanOrEqual(1);
    expect(await exists('access_tokens', revoked.tokenId)).toBe(false);
    // Introspection of the pruned token finds nothing: it answers active:false as it did when revoked.
    expect(await findActiveToken(t.db, sha256(revoked.token))).toBeUndefined();

    clock.advance(10 * 365 * 86_400 * 1000);
    await sweep(clock);
    expect(await exists('access_tokens', live.tokenId)).toBe(true);
    expect(await exists('authorizations', live.authorizationId)).toBe(true);
  });

  it('expiring tokens: an expired access token and a dead refresh token go after the window; a rotated one stays while its family lives', async () => {
    const clock = new FakeClock(await dbNow());
    const appId = await createApp(t.db, `expiring ${Math.random()}`);
    await addAppMember(t.db, appId, ada);
    const at = (s: number) => new Date(clock.now() + s * 1000);
    const access = `acc-${Math.random()}`;
    const refresh = `ref-${Math.random()}`;
    // A family of one day: access for 10 minutes, the refresh token rotated once.
    const issued = await issueToken(t.db, {
      clientId: 'shoplifter-rotating',
      appId,
      accountId: ada,
      scope: 'app:read',
      tokenHash: sha256(access),
      codeHash: null,
      expiry: { accessExpiresAt: at(600), refreshHash: sha256(refresh), refreshExpiresAt: at(3600), familyExpiresAt: at(86_400) },
    });
    const next = `ref2-${Math.random()}`;
    expect(
      await rotateRefreshToken(t.db, {
        clientId: 'shoplifter-rotating',
        tokenHash: sha256(refresh),
        now: at(60),
        scope: null,
        accessHash: sha256(`acc2-${Math.random()}`),
        refreshHash: sha256(next),
      }),
    ).toMatchObject({ ok: true });
    const refreshRows = async () =>
      (await t.db.selectFrom('refresh_tokens').select('token_hash').where('authorization_id', '=', issued.authorizationId).execute()).map(
        (r) => r.token_hash,
      );

    clock.advance((600 + RETENTION - 60) * 1000);
    await sweep(clock);
    expect(await exists('access_tokens', issued.tokenId)).toBe(true);
    clock.advance(120 * 1000);
    await sweep(clock);
    // Expired longer than the window: gone. The rotated refresh token stays, so a replay is still recognised.
    expect(await exists('access_tokens', issued.tokenId)).toBe(false);
    expect((await refreshRows()).sort()).toEqual([sha256(refresh), sha256(next)].sort());

    // Past the family's absolute deadline and the window: both refresh tokens go; the authorization stays live.
    clock.advance((86_400 + RETENTION) * 1000);
    const result = await sweep(clock);
    expect(result.deleted.refresh_tokens).toBeGreaterThanOrEqual(2);
    expect(await refreshRows()).toEqual([]);
    expect(await exists('authorizations', issued.authorizationId)).toBe(true);
  });

  it('deletes an ended authorization (and its revoked tokens) after the window; live ones and their listings are unchanged', async () => {
    const ended = await consent('ended');
    const live = await consent('live');
    const before = {
      integrations: await listConnectedIntegrations(t.db, ada),
      admin: await listClientAuthorizations(t.db, CLIENT, { limit: 1000 }),
    };
    expect(before.integrations.map((i) => i.appId)).toContain(ended.appId);
    await endAuthorizations(t.db, { authorizationId: ended.authorizationId }, 'owner_removed');
    const listedWhileEnded = {
      integrations: await listConnectedIntegrations(t.db, ada),
      admin: await listClientAuthorizations(t.db, CLIENT, { limit: 1000 }),
    };
    const clock = new FakeClock(await dbNow());

    clock.advance((RETENTION - 60) * 1000);
    await sweep(clock);
    expect(await exists('authorizations', ended.authorizationId)).toBe(true);

    clock.advance(120 * 1000);
    const result = await sweep(clock);
    expect(result.deleted.access_tokens + result.deleted.authorizations).toBeGreaterThanOrEqual(2);
    expect(await exists('authorizations', ended.authorizationId)).toBe(false);
    expect(await exists('access_tokens', ended.tokenId)).toBe(false);
    expect(await exists('authorizations', live.authorizationId)).toBe(true);
    expect(await findActiveToken(t.db, sha256(live.token))).toMatchObject({ tokenId: live.tokenId });
    // What the app owner and the admin API see is exactly what they saw before the sweep.
    expect(await listConnectedIntegrations(t.db, ada)).toEqual(listedWhileEnded.integrations);
    expect(await listClientAuthorizations(t.db, CLIENT, { limit: 1000 })).toEqual(listedWhileEnded.admin);
    expect(listedWhileEnded.admin.map((a) => a.id)).toContain(live.authorizationId);
  });

  it('a replayed code still revokes its live token after any sweep, and finds nothing to revive once its ended rows are pruned', async () => {
    const liveFromCode = await consent('code-live');
    const endedFromCode = await consent('code-ended');
    await revokeClientToken(t.db, sha256(endedFromCode.token), CLIENT);
    const clock = new FakeClock(await dbNow());
    clock.advance((RETENTION + 600) * 1000);
    await sweep(clock);
    expect(await exists('access_tokens', endedFromCode.tokenId)).toBe(false);
    // The live token from a code is never swept, so a replay of that code finds it and ends it.
    expect(await revokeTokensFromCode(t.db, sha256(liveFromCode.code))).toBe(1);
    expect(await findActiveToken(t.db, sha256(liveFromCode.token))).toBeUndefined();
    // The pruned one had nothing left to revoke.
    expect(await revokeTokensFromCode(t.db, sha256(endedFromCode.code))).toBe(0);
  });

  it('deletes delivered and failed removal notices after the window and keeps pending ones however old', async () => {
    const a = await consent('notice-a');
    const b = await consent('notice-b');
    const c = await consent('notice-c');
    for (const x of [a, b, c]) await endAuthorizations(t.db, { authorizationId: x.authorizationId }, 'owner_removed');
    const notice = async (authorizationId: string) =>
      (await t.db.selectFrom('webhook_deliveries').select('id').where('authorization_id', '=', authorizationId).executeTakeFirstOrThrow())
        .id;
    const [delivered, failed, pending] = [
      await notice(a.authorizationId),
      await notice(b.authorizationId),
      await notice(c.authorizationId),
    ];
    const start = await dbNow();
    const completedAt = new Date(start);
    await t.db
      .updateTable('webhook_deliveries')
      .set({ status: 'delivered', completed_at: completedAt })
      .where('id', '=', delivered)
      .execute();
    await t.db.updateTable('webhook_deliveries').set({ status: 'failed', completed_at: completedAt }).where('id', '=', failed).execute();
    const clock = new FakeClock(start);

    clock.advance((RETENTION - 60) * 1000);
    await sweep(clock);
    expect([await exists('webhook_deliveries', delivered), await exists('webhook_deliveries', failed)]).toEqual([true, true]);

    clock.advance(120 * 1000);
    const result = await sweep(clock);
    expect(result.deleted.webhook_deliveries).toBeGreaterThanOrEqual(2);
    expect([await exists('webhook_deliveries', delivered), await exists('webhook_deliveries', failed)]).toEqual([false, false]);

    clock.advance(10 * 365 * 86_400 * 1000);
    await sweep(clock);
    expect(await exists('webhook_deliveries', pending)).toBe(true);
  });

  it('deletes audit entries after AUDIT_RETENTION_SECONDS, not after RETENTION_SECONDS', async () => {
    const target = `audit-${Math.random()}`;
    await appendAudit(t.db, { adminKeyId: null, adminKeyName: 'test', action: 'client.create', targetType: 'client', targetId: target });
    const count = async () =>
      Number(
        (
          await t.db
            .selectFrom('audit_log')
            .select((e) => e.fn.countAll().as('n'))
            .where('target_id', '=', target)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const clock = new FakeClock(await dbNow());
    clock.advance((RETENTION + 600) * 1000);
    await sweep(clock);
    expect(await count()).toBe(1);
    clock.advance((AUDIT_RETENTION - RETENTION) * 1000);
    const result = await sweep(clock);
    expect(result.deleted.audit_log).toBeGreaterThanOrEqual(1);
    expect(await count()).toBe(0);
  });

  it('works off a backlog in batches of batchSize, at most maxBatches statements per table per sweep', async () => {
    const ended = [];
    for (let i = 0; i < 5; i++) ended.push(await consent(`batch-${i}`));
    for (const e of ended) await revokeClientToken(t.db, sha256(e.token), CLIENT);
    const clock = new FakeClock(await dbNow());
    clock.advance((RETENTION + 60) * 1000);
    const first = await sweep(clock, { batchSize: 2, maxBatches: 1 });
    expect(first.deleted.access_tokens).toBe(2);
    const rest = await sweep(clock, { batchSize: 2 });
    expect(rest.deleted.access_tokens).toBe(3);
    for (const e of ended) expect(await exists('access_tokens', e.tokenId)).toBe(false);
  });

  it('skips, deleting nothing, while another instance holds the sweep lock', async () => {
    const ended = await consent('locked');
    await revokeClientToken(t.db, sha256(ended.token), CLIENT);
    const clock = new FakeClock(await dbNow());
    clock.advance((RETENTION + 60) * 1000);
    // Another instance mid-sweep: its own session holds the advisory lock.
    const other = new pg.Client({ connectionString: t.url });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock(1886339693, 1919251566)');
      const result = await sweep(clock);
      expect(result).toEqual({
        swept: false,
        deleted: { refresh_tokens: 0, access_tokens: 0, authorizations: 0, webhook_deliveries: 0, audit_log: 0, replayed_codes: 0 },
      });
      expect(await exists('access_tokens', ended.tokenId)).toBe(true);
    } finally {
      await other.end();
    }
    expect((await sweep(clock)).swept).toBe(true);
    expect(await exists('access_tokens', ended.tokenId)).toBe(false);
  });

  it('two instances sweeping at once delete each row once, with no error', async () => {
    const ended = [];
    for (let i = 0; i < 30; i++) ended.push(await consent(`race-${i}`));
    for (const e of ended) await endAuthorizations(t.db, { authorizationId: e.authorizationId }, 'owner_removed');
    await t.db
      .updateTable('webhook_deliveries')
      .set({ status: 'delivered', completed_at: new Date(await dbNow()) })
      .where('status', '=', 'pending')
      .execute();
    const clock = new FakeClock(await dbNow());
    clock.advance((RETENTION + 60) * 1000);
    const cutoff = new Date(clock.now() - RETENTION * 1000);
    const due = async () => ({
      access_tokens: Number(
        (await sql<{ n: string }>`select count(*) as n from access_tokens where revoked_at < ${cutoff}`.execute(t.db)).rows[0]?.n,
      ),
      authorizations: Number(
        (await sql<{ n: string }>`select count(*) as n from authorizations where revoked_at < ${cutoff}`.execute(t.db)).rows[0]?.n,
      ),
      webhook_deliveries: Number(
        (
          await sql<{
            n: string;
          }>`select count(*) as n from webhook_deliveries where status <> 'pending' and completed_at < ${cutoff}`.execute(t.db)
        ).rows[0]?.n,
      ),
    });
    const expected = await due();
    expect(expected.authorizations).toBeGreaterThanOrEqual(30);
    // Two "instances": each its own pool, as two pods would have.
    const { openDatabase } = await import('../src/index.js');
    const pods = [await openDatabase({ databaseUrl: t.url, poolSize: 2 }), await openDatabase({ databaseUrl: t.url, poolSize: 2 })];
    try {
      const opts = { now: new Date(clock.now()), retentionSeconds: RETENTION, auditRetentionSeconds: AUDIT_RETENTION, batchSize: 3 };
      const results: RetentionResult[] = await Promise.all(pods.map((db) => sweepRetention(db, opts)));
      const sum = (k: 'access_tokens' | 'authorizations' | 'webhook_deliveries') => results.reduce((n, r) => n + r.deleted[k], 0);
      expect({
        access_tokens: sum('access_tokens'),
        authorizations: sum('authorizations'),
        webhook_deliveries: sum('webhook_deliveries'),
      }).toEqual(expected);
      expect(results.some((r) => r.swept)).toBe(true);
      expect(await due()).toEqual({ access_tokens: 0, authorizations: 0, webhook_deliveries: 0 });
    } finally {
      await Promise.all(pods.map((db) => db.destroy()));
    }
  });

  it('the scheduler reports each run, a failed one included, and stops cleanly', async () => {
    const runs: { swept?: boolean; error?: unknown }[] = [];
    const clock = new FakeClock(await dbNow());
    const sweeper = startRetentionSweeper({
      db: t.db,
      retentionSeconds: RETENTION,
      auditRetentionSeconds: AUDIT_RETENTION,
      intervalMs: 60_000,
      clock,
      autoStart: false,
      onRun: ({ result, error }) => runs.push(result ? { swept: result.swept } : { error }),
    });
    await sweeper.runOnce();
    const broken = startRetentionSweeper({
      db: t.db,
      retentionSeconds: 1,
      auditRetentionSeconds: AUDIT_RETENTION,
      intervalMs: 60_000,
      clock,
      autoStart: false,
      onRun: ({ result, error }) => runs.push(result ? { swept: result.swept } : { error }),
    });
    await broken.runOnce();
    await Promise.all([sweeper.stop(), broken.stop()]);
    expect(runs[0]).toEqual({ swept: true });
    expect(runs[1]?.error).toBeInstanceOf(RangeError);
  });
});
