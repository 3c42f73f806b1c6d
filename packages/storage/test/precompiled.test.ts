// The precompiled hot-path queries return exactly what their Kysely builders return, and the layer's rules hold.
import { randomBytes } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../src/db.js';
import {
  ActiveTokenReader,
  activeTokenStatesQuery,
  activeTokensQuery,
  addAppMember,
  bindingQuery,
  clientCredentialsQuery,
  clientManagedAppBindingQuery,
  clientManagedAppsQuery,
  clientQuery,
  codeBinding,
  createApp,
  endAuthorizations,
  expiryParams,
  findActiveToken,
  findClient,
  findClientWithManagedAppBinding,
  findClientWithManagedApps,
  findLiveAuthorization,
  findManagedApp,
  findManagedAppWithBinding,
  issueToken,
  issueTokenQuery,
  listManagedApps,
  listManagedAppsAccess,
  managedAppBindingQuery,
  managedAppsAccessQuery,
  newId,
  rotateRefreshToken,
  rotateRefreshTokenQuery,
  TokenStateReader,
  UnstorableTextError,
  updateClient,
} from '../src/index.js';
import { assertStorable } from '../src/nul-guard.js';
import { type PrecompiledQuery, precompiled } from '../src/precompiled.js';
import { addTestClient, createTestDatabase, rolledBack, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
});
afterAll(() => t.drop());

/** What the query builder returns for these parameters: the built query compiled (plugins included) and run. */
async function viaBuilder<P extends Record<string, unknown>, R>(db: Db, query: PrecompiledQuery<P, R>, params: P): Promise<R[]> {
  return (await db.executeQuery<R>(query.build(db, params).compile())).rows;
}

const hash = () => randomBytes(16).toString('hex');
const grant = () => ({
  clientId: 'shoplifter',
  appId: t.ids.apps['Acme Sales'] as string,
  accountId: t.ids.accounts['ada@example.com'] as string,
  scope: 'app:read',
});

describe('precompiled queries return what the builder returns', () => {
  it('activeTokensQuery: a live token, an unknown one, a revoked one, an expiring one before and after its expiry, and all at once', async () => {
    const now = new Date();
    const live = hash();
    await issueToken(t.db, { ...grant(), tokenHash: live, codeHash: null });
    const revoked = hash();
    await issueToken(t.db, { ...grant(), tokenHash: revoked, codeHash: null });
    await t.db.updateTable('access_tokens').set({ revoked_at: sql`now()` }).where('token_hash', '=', revoked).execute();
    const expiring = hash();
    await issueToken(t.db, { ...grant(), tokenHash: expiring, codeHash: null });
    await t.db
      .updateTable('access_tokens')
      .set({ expires_at: new Date(now.getTime() + 60_000) })
      .where('token_hash', '=', expiring)
      .execute();
    const after = new Date(now.getTime() + 60_000);
    const unknown = hash();
    for (const params of [
      { tokenHashes: [live], now },
      { tokenHashes: [unknown], now },
      { tokenHashes: [revoked], now },
      { tokenHashes: [expiring], now },
      { tokenHashes: [expiring], now: after },
      { tokenHashes: [live, unknown, revoked, expiring], now },
      { tokenHashes: [], now },
    ]) {
      expect(await activeTokensQuery(t.db, params)).toEqual(await viaBuilder(t.db, activeTokensQuery, params));
    }
    expect(await activeTokensQuery(t.db, { tokenHashes: [live], now })).toHaveLength(1);
    expect(await activeTokensQuery(t.db, { tokenHashes: [revoked], now })).toEqual([]);
    expect(await activeTokensQuery(t.db, { tokenHashes: [expiring], now })).toMatchObject([
      { expiresAt: new Date(now.getTime() + 60_000) },
    ]);
    expect(await activeTokensQuery(t.db, { tokenHashes: [expiring], now: after })).toEqual([]);
    const all = await activeTokensQuery(t.db, { tokenHashes: [live, unknown, revoked, expiring], now });
    expect(all.map((r) => r.tokenHash).sort()).toEqual([live, expiring].sort());
  });

  it('activeTokensQuery looks each hash up by its key, even when the statistics have not seen the table grow', async () => {
    // 60,000 tokens under one partner, never analysed: the planner thinks the partner has a handful.
    const { authorizationId } = await issueToken(t.db, { ...grant(), tokenHash: hash(), codeHash: null });
    await sql`insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope)
      select 'stale-' || g, md5(g::text) || md5((g + 1)::text), ${authorizationId}, 'shoplifter', ${grant().appId}, 'app:read'
      from generate_series(1, 60000) g`.execute(t.db);
    const picked = await sql<{
      h: string;
    }>`select md5(g::text) || md5((g + 1)::text) as h from generate_series(500, 60000, 4000) g`.execute(t.db);
    const params = { tokenHashes: picked.rows.map((r) => r.h), now: new Date() };
    const compiled = activeTokensQuery.build(t.db, params).compile();
    const plan = await t.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('access_tokens_token_hash_key');
    expect(text).not.toContain('access_tokens_client_app_idx');
    expect(await activeTokensQuery(t.db, params)).toHaveLength(params.tokenHashes.length);
  });

  it.each([
    ['ActiveTokenReader', ActiveTokenReader],
    ['TokenStateReader', TokenStateReader],
  ])(
    '%s: concurrent lookups each get their own token, and a revocation made while a batch is in flight is seen by the next call',
    async (_, Reader) => {
      const reader = new Reader(t.db);
      const now = new Date();
      const hashes = Array.from({ length: 12 }, () => hash());
      for (const tokenHash of hashes.slice(0, 8)) await issueToken(t.db, { ...grant(), tokenHash, codeHash: null });
      const found = await Promise.all(hashes.map((h) => reader.find(h, now)));
      expect(found.map((f) => f !== undefined)).toEqual(hashes.map((_, i) => i < 8));
      expect(found.slice(0, 8).map((f) => f?.tokenId)).toEqual(
        await Promise.all(hashes.slice(0, 8).map(async (h) => (await findActiveToken(t.db, h, now))?.tokenId)),
      );
      const victim = hashes[3] as string;
      const inFlight = reader.find(hashes[0] as string, now);
      await t.db.updateTable('access_tokens').set({ revoked_at: sql`now()` }).where('token_hash', '=', victim).execute();
      expect(await reader.find(victim, now)).toBeUndefined();
      expect(await inFlight).toBeDefined();
    },
  );

  it('activeTokenStatesQuery finds what activeTokensQuery finds, without the names: live, unknown, revoked, expiring, ended grant, disabled client, deleted app', async () => {
    const now = new Date();
    const after = new Date(now.getTime() + 60_000);
    const issue = async (g = grant()) => {
      const tokenHash = hash();
      await issueToken(t.db, { ...g, tokenHash, codeHash: null });
      return tokenHash;
    };
    const live = await issue();
    const revoked = await issue();
    await t.db.updateTable('access_tokens').set({ revoked_at: sql`now()` }).where('token_hash', '=', revoked).execute();
    const expiring = await issue();
    await t.db.updateTable('access_tokens').set({ expires_at: after }).where('token_hash', '=', expiring).execute();
    // Each ending below on a partner or app of its own, so it ends only that token.
    const endedApp = await createApp(t.db, 'pc states ended');
    const ended = await issue({ ...grant(), appId: endedApp });
    await endAuthorizations(t.db, { clientId: 'shoplifter', appId: endedApp }, 'partner_revoked');
    await addTestClient(t.db, 'pc-states-disabled');
    const disabled = await issue({ ...grant(), clientId: 'pc-states-disabled' });
    await t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', 'pc-states-disabled').execute();
    const deletedApp = await createApp(t.db, 'pc states deleted');
    const deleted = await issue({ ...grant(), appId: deletedApp });
    // The states query has no join to apps: a token of a deleted app must be gone with its authorization.
    await t.db.deleteFrom('apps').where('id', '=', deletedApp).execute();
    const all = [live, hash(), revoked, expiring, ended, disabled, deleted];
    for (const params of [
      { tokenHashes: all, now },
      { tokenHashes: all, now: after },
      ...all.map((h) => ({ tokenHashes: [h], now })),
      { tokenHashes: [], now },
    ]) {
      const states = await activeTokenStatesQuery(t.db, params);
      expect(states).toEqual(await viaBuilder(t.db, activeTokenStatesQuery, params));
      const full = await activeTokensQuery(t.db, params);
      expect(states).toEqual(expect.arrayContaining(full.map(({ clientName, appName, ...state }) => state)));
      expect(states).toHaveLength(full.length);
    }
    const found = await activeTokenStatesQuery(t.db, { tokenHashes: all, now });
    expect(found.map((r) => r.tokenHash).sort()).toEqual([live, expiring].sort());
    expect(found[0]).not.toHaveProperty('clientName');
    expect((await activeTokenStatesQuery(t.db, { tokenHashes: all, now: after })).map((r) => r.tokenHash)).toEqual([live]);
  });

  it("both token queries look each hash up by its key when the statistics were taken before a pair's tokens grew", async () => {
    // Analysed with one token under the pair, then 100,000 more: the planner's estimate for the pair's authorization
    // is still a token or so, so starting from the authorization's tokens looks cheap (it read all 100,000 per call).
    const appId = await createApp(t.db, 'pc stale grown');
    const { authorizationId } = await issueToken(t.db, { ...grant(), appId, tokenHash: hash(), codeHash: null });
    await sql`analyze access_tokens`.execute(t.db);
    await sql`analyze authorizations`.execute(t.db);
    await sql`insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope)
      select 'grown-' || g, md5('grown' || g) || md5('grown' || (g + 1)), ${authorizationId}, 'shoplifter', ${appId}, 'app:read'
      from generate_series(1, 100000) g`.execute(t.db);
    const picked = await sql<{ h: string }>`select md5('grown' || g) || md5('grown' || (g + 1)) as h
      from generate_series(500, 96000, 6000) g`.execute(t.db);
    const params = { tokenHashes: picked.rows.map((r) => r.h), now: new Date() };
    // Both plans the service can run: the custom one of a statement's first runs, and the generic one a prepared
    // statement (PreparingClient) may switch to after five.
    const planText = (compiled: CompiledQuery, mode: 'force_custom_plan' | 'force_generic_plan') =>
      rolledBack(t.db, async (trx) => {
        // Prepared, as the service's statements are: a plain EXPLAIN plans with the values whatever the mode.
        await sql.raw(`set local plan_cache_mode = ${mode}`).execute(trx);
        await trx.executeQuery(CompiledQuery.raw(`prepare token_lookup_plan as ${compiled.sql}`));
        try {
          // EXECUTE takes its arguments as SQL, not as parameters: the test's own values, quoted.
          const literal = (v: unknown): string =>
            Array.isArray(v)
              ? `array[${v.map(literal).join(', ')}]`
              : `'${(v instanceof Date ? v.toISOString() : String(v)).replaceAll("'", "''")}'`;
          const plan = await trx.executeQuery<{ 'QUERY PLAN': string }>(
            CompiledQuery.raw(`explain execute token_lookup_plan(${compiled.parameters.map(literal).join(', ')})`),
          );
          return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        } finally {
          await trx.executeQuery(CompiledQuery.raw('deallocate token_lookup_plan'));
        }
      });
    for (const query of [activeTokensQuery, activeTokenStatesQuery]) {
      const compiled = query.build(t.db, params).compile();
      for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
        const text = await planText(compiled, mode);
        // A generic plan keeps its parameters: this one is the plan a prepared statement switches to.
        if (mode === 'force_generic_plan') expect(text).toContain('$1');
        expect([mode, text]).toEqual([mode, expect.stringContaining('access_tokens_token_hash_key')]);
        expect([mode, text]).not.toEqual([mode, expect.stringContaining('access_tokens_authorization_idx')]);
      }
      expect(await query(t.db, params)).toHaveLength(params.tokenHashes.length);
    }
    // Introspection's query never reads the apps table.
    expect(activeTokenStatesQuery.build(t.db, params).compile().sql).not.toContain('"apps"');
  });

  it('clientCredentialsQuery: a client with secrets, one whose secret expired, a disabled one, an unknown one', async () => {
    const expiring = await addTestClient(t.db, 'pc-expiring');
    await t.db
      .updateTable('client_secrets')
      .set({ expires_at: new Date(Date.now() + 60_000) })
      .where('client_id', '=', expiring.client_id)
      .execute();
    await addTestClient(t.db, 'pc-disabled');
    await t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', 'pc-disabled').execute();
    const now = new Date();
    const later = new Date(Date.now() + 3_600_000);
    for (const params of [
      { clientId: 'shoplifter', now },
      { clientId: 'pc-expiring', now },
      { clientId: 'pc-expiring', now: later },
      { clientId: 'pc-disabled', now },
      { clientId: 'nobody', now },
    ]) {
      expect(await clientCredentialsQuery(t.db, params)).toEqual(await viaBuilder(t.db, clientCredentialsQuery, params));
    }
    expect((await clientCredentialsQuery(t.db, { clientId: 'pc-expiring', now })).map((r) => r.id)).not.toEqual([null]);
    expect((await clientCredentialsQuery(t.db, { clientId: 'pc-expiring', now: later })).map((r) => r.id)).toEqual([null]);
  });

  it('issueTokenQuery without a guard: a first consent, one joining the live authorization, one changing its scope; with and without a code', async () => {
    const appId = t.ids.apps['Grace Shop'] as string;
    const accountId = t.ids.accounts['grace@example.com'] as string;
    const cases = [
      { clientId: 'shoplifter', appId, accountId, scope: 'app:read', codeHash: null },
      { clientId: 'shoplifter', appId, accountId, scope: 'app:read', codeHash: hash() },
      { clientId: 'shoplifter', appId, accountId, scope: 'app:read conversations:read', codeHash: null },
    ];
    // Each case twice over the same state (rolled back), once per path, after the previous cases were kept.
    for (const c of cases) {
      const params = {
        ...c,
        authId: newId(),
        tokenId: newId(),
        tokenHash: hash(),
        redirectUri: null,
        epoch: null,
        endedGrants: null,
        ...expiryParams(null),
      };
      const state = async (trx: Db) =>
        trx
          .selectFrom('authorizations')
          .select(['id', 'granted_by', 'scope', 'revoked_at'])
          .where('client_id', '=', c.clientId)
          .where('app_id', '=', appId)
          .orderBy('id')
          .execute();
      const fast = await rolledBack(t.db, async (trx) => ({ rows: await issueTokenQuery(trx, params), after: await state(trx) }));
      const built = await rolledBack(t.db, async (trx) => ({
        rows: await viaBuilder(trx, issueTokenQuery, params),
        after: await state(trx),
      }));
      expect(fast).toEqual(built);
      expect(fast.rows).toHaveLength(1);
      await issueTokenQuery(t.db, params);
    }
  });
});

describe('precompiled queries of the code exchange return what the builder returns', () => {
  it('bindingQuery: a client with ended grants on the app, one without, an unknown one', async () => {
    const appId = t.ids.apps['Acme Sales'] as string;
    await addTestClient(t.db, 'pc-ended');
    await issueToken(t.db, { ...grant(), clientId: 'pc-ended', appId, tokenHash: hash(), codeHash: null });
    await endAuthorizations(t.db, { clientId: 'pc-ended', appId }, 'partner_revoked');
    await addTestClient(t.db, 'pc-binding');
    for (const params of [
      { clientId: 'pc-ended', appId },
      { clientId: 'pc-binding', appId },
      { clientId: 'nobody', appId },
    ]) {
      expect(await bindingQuery(t.db, params)).toEqual(await viaBuilder(t.db, bindingQuery, params));
    }
    expect(Number((await bindingQuery(t.db, { clientId: 'pc-ended', appId }))[0]?.ended)).toBe(1);
    expect(await bindingQuery(t.db, { clientId: 'nobody', appId })).toEqual([]);
  });

  it('issueTokenQuery guarded for a code: a binding that holds, none, a moved epoch, a grant ended since, an unregistered redirect URI', async () => {
    const appId = t.ids.apps['Grace Shop'] as string;
    const accountId = t.ids.accounts['grace@example.com'] as string;
    const client = await addTestClient(t.db, 'pc-code', { redirect_uris: ['https://pc.example/cb'] });
    const binding = await codeBinding(t.db, client.client_id, appId);
    if (!binding) throw new Error('no binding');
    const base = { clientId: client.client_id, appId, accountId, scope: 'app:read', redirectUri: 'https://pc.example/cb' };
    const cases = [
      { ...base, epoch: binding.epoch, endedGrants: binding.endedGrants, issues: true },
      { ...base, epoch: null, endedGrants: null, issues: true },
      { ...base, epoch: '00000000-0000-4000-8000-000000000000', endedGrants: binding.endedGrants, issues: false },
      { ...base, epoch: binding.epoch, endedGrants: binding.endedGrants + 1, issues: false },
      { ...base, redirectUri: 'https://elsewhere.example/cb', epoch: binding.epoch, endedGrants: binding.endedGrants, issues: false },
    ];
    for (const { issues, ...c } of cases) {
      const params = { ...c, authId: newId(), tokenId: newId(), tokenHash: hash(), codeHash: hash(), ...expiryParams(null) };
      const state = async (trx: Db) =>
        trx
          .selectFrom('access_tokens')
          .select(['id', 'authorization_id', 'scope', 'code_hash'])
          .where('client_id', '=', c.clientId)
          .orderBy('id')
          .execute();
      const fast = await rolledBack(t.db, async (trx) => ({ rows: await issueTokenQuery(trx, params), after: await state(trx) }));
      const built = await rolledBack(t.db, async (trx) => ({
        rows: await viaBuilder(trx, issueTokenQuery, params),
        after: await state(trx),
      }));
      expect(fast).toEqual(built);
      expect(fast.rows).toHaveLength(issues ? 1 : 0);
    }
  });
});

describe('precompiled queries of expiring tokens return what the builder returns', () => {
  const now = new Date();
  const expiry = () => ({
    accessExpiresAt: new Date(now.getTime() + 300_000),
    refreshHash: hash(),
    refreshExpiresAt: new Date(now.getTime() + 3_600_000),
    familyExpiresAt: new Date(now.getTime() + 86_400_000),
  });

  it('issueTokenQuery with expiry: the access token carries expires_at and a refresh token joins the authorization', async () => {
    const appId = t.ids.apps['Acme Support'] as string;
    const accountId = t.ids.accounts['ada@example.com'] as string;
    await addTestClient(t.db, 'pc-expiry', { expiring_tokens: true });
    const e = expiry();
    const params = {
      clientId: 'pc-expiry',
      appId,
      accountId,
      scope: 'app:read',
      authId: newId(),
      tokenId: newId(),
      tokenHash: hash(),
      codeHash: null,
      redirectUri: null,
      epoch: null,
      endedGrants: null,
      ...expiryParams(e),
    };
    const state = async (trx: Db) => ({
      access: await trx.selectFrom('access_tokens').select(['id', 'expires_at']).where('client_id', '=', 'pc-expiry').execute(),
      refresh: await trx
        .selectFrom('refresh_tokens')
        .select(['id', 'token_hash', 'scope', 'expires_at', 'family_expires_at'])
        .where('client_id', '=', 'pc-expiry')
        .execute(),
    });
    const fast = await rolledBack(t.db, async (trx) => ({ rows: await issueTokenQuery(trx, params), after: await state(trx) }));
    const built = await rolledBack(t.db, async (trx) => ({
      rows: await viaBuilder(trx, issueTokenQuery, params),
      after: await state(trx),
    }));
    expect(fast).toEqual(built);
    expect(fast.after.access).toEqual([{ id: params.tokenId, expires_at: e.accessExpiresAt }]);
    expect(fast.after.refresh).toEqual([
      {
        id: params.refreshId,
        token_hash: e.refreshHash,
        scope: 'app:read',
        expires_at: e.refreshExpiresAt,
        family_expires_at: e.familyExpiresAt,
      },
    ]);
  });

  it('rotateRefreshTokenQuery: a live token, with a narrower scope, a wider one, an unknown one, another client, an expired one', async () => {
    const appId = t.ids.apps['Grace Shop'] as string;
    const accountId = t.ids.accounts['grace@example.com'] as string;
    await addTestClient(t.db, 'pc-rotate', { expiring_tokens: true, allowed_scopes: ['app:read', 'users:read'] });
    const e = expiry();
    await issueToken(t.db, {
      clientId: 'pc-rotate',
      appId,
      accountId,
      scope: 'app:read users:read',
      tokenHash: hash(),
      codeHash: null,
      expiry: e,
    });
    const base = { clientId: 'pc-rotate', secretId: null as string | null, tokenHash: e.refreshHash, now, scope: null as string | null };
    const [secret] = await t.db.selectFrom('client_secrets').select('id').where('client_id', '=', 'pc-rotate').execute();
    const cases = [
      { ...base, rotates: true },
      { ...base, secretId: secret?.id as string, rotates: true },
      { ...base, secretId: 'no-such-secret', rotates: false },
      { ...base, scope: 'users:read', rotates: true },
      { ...base, scope: 'app:read conversations:read', rotates: false },
      { ...base, tokenHash: hash(), rotates: false },
      { ...base, clientId: 'shoplifter', rotates: false },
      { ...base, now: e.refreshExpiresAt, rotates: false },
    ];
    for (const { rotates, ...c } of cases) {
      const params = { ...c, accessId: newId(), accessHash: hash(), refreshId: newId(), refreshHash: hash() };
      const state = async (trx: Db) => ({
        access: await trx
          .selectFrom('access_tokens')
          .select(['id', 'scope', 'expires_at'])
          .where('client_id', '=', 'pc-rotate')
          .orderBy('id')
          .execute(),
        refresh: await trx
          .selectFrom('refresh_tokens')
          .select(['id', 'scope', 'used_at', 'expires_at', 'family_expires_at'])
          .where('client_id', '=', 'pc-rotate')
          .orderBy('id')
          .execute(),
      });
      const fast = await rolledBack(t.db, async (trx) => ({ rows: await rotateRefreshTokenQuery(trx, params), after: await state(trx) }));
      const built = await rolledBack(t.db, async (trx) => ({
        rows: await viaBuilder(trx, rotateRefreshTokenQuery, params),
        after: await state(trx),
      }));
      expect(fast).toEqual(built);
      expect(fast.rows).toHaveLength(rotates ? 1 : 0);
    }
    // What a rotation wrote: the presented token used, a new one with the same scope and family deadline.
    const rotated = await rotateRefreshToken(t.db, { ...base, scope: 'users:read', accessHash: hash(), refreshHash: hash() });
    expect(rotated).toMatchObject({ ok: true, scope: 'users:read' });
    const rows = await t.db.selectFrom('refresh_tokens').selectAll().where('client_id', '=', 'pc-rotate').orderBy('created_at').execute();
    expect(rows.map((r) => [r.scope, r.used_at !== null, r.family_expires_at])).toEqual([
      ['app:read users:read', true, e.familyExpiresAt],
      ['app:read users:read', false, e.familyExpiresAt],
    ]);
  });
});

describe('precompiled queries of the consent steps return what the builder returns', () => {
  it('clientQuery: an active client, a disabled one, an unknown one', async () => {
    await addTestClient(t.db, 'pc-client-off', { client_uri: 'https://off.example', policy_uri: 'https://off.example/p' });
    await updateClient(t.db, 'pc-client-off', { status: 'disabled' });
    for (const clientId of ['shoplifter', 'pc-client-off', 'nobody']) {
      const params = { clientId };
      expect(await clientQuery(t.db, params)).toEqual(await viaBuilder(t.db, clientQuery, params));
      expect(await findClient(t.db, clientId)).toEqual(
        await t.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst(),
      );
    }
    expect((await findClient(t.db, 'pc-client-off'))?.status).toBe('disabled');
    expect(await findClient(t.db, 'nobody')).toBeUndefined();
  });

  it('managedAppsAccessQuery: apps with live, revoked and no access for the client, an app only a member of, no apps', async () => {
    await addTestClient(t.db, 'pc-apps');
    const owner = t.ids.accounts['nobody@example.com'] as string;
    const other = t.ids.accounts['ada@example.com'] as string;
    const [live, revoked, none, memberOnly] = await Promise.all(
      ['pc B live', 'pc A revoked', 'pc A none', 'pc member'].map((n) => createApp(t.db, n)),
    );
    for (const app of [live, revoked, none] as string[]) await addAppMember(t.db, app, owner, 'owner');
    await addAppMember(t.db, memberOnly as string, owner, 'member');
    const issue = (appId: string) =>
      issueToken(t.db, { clientId: 'pc-apps', appId, accountId: owner, scope: 'app:read', tokenHash: hash(), codeHash: null });
    await issue(live as string);
    await issue(revoked as string);
    await endAuthorizations(t.db, { clientId: 'pc-apps', appId: revoked as string }, 'partner_revoked');
    await issue(revoked as string);
    await endAuthorizations(t.db, { clientId: 'pc-apps', appId: revoked as string }, 'partner_revoked');
    // Live access for another client on the same app is not this client's.
    await issueToken(t.db, {
      clientId: 'shoplifter',
      appId: none as string,
      accountId: owner,
      scope: 'app:read',
      tokenHash: hash(),
      codeHash: null,
    });
    for (const params of [
      { accountId: owner, clientId: 'pc-apps' },
      { accountId: owner, clientId: 'shoplifter' },
      { accountId: owner, clientId: 'nobody' },
      { accountId: other, clientId: 'pc-apps' },
      { accountId: 'no-such-account', clientId: 'pc-apps' },
    ]) {
      expect(await managedAppsAccessQuery(t.db, params)).toEqual(await viaBuilder(t.db, managedAppsAccessQuery, params));
      // What listManagedApps and findLiveAuthorization answer, app by app.
      const apps = await listManagedApps(t.db, params.accountId);
      const expected = await Promise.all(
        apps.map(async (app) => ({ ...app, liveSince: (await findLiveAuthorization(t.db, params.clientId, app.id))?.since ?? null })),
      );
      expect(await listManagedAppsAccess(t.db, params.accountId, params.clientId)).toEqual(expected);
      // With the client, in one statement (the authorization request's, signed in).
      const withClient = { clientId: params.clientId, accountId: params.accountId };
      expect(await clientManagedAppsQuery(t.db, withClient)).toEqual(await viaBuilder(t.db, clientManagedAppsQuery, withClient));
      const client = await findClient(t.db, params.clientId);
      expect(await findClientWithManagedApps(t.db, params.clientId, params.accountId)).toEqual(
        client ? { client, apps: expected } : undefined,
      );
    }
    const mine = await listManagedAppsAccess(t.db, owner, 'pc-apps');
    expect(mine.map((a) => [a.name, a.liveSince instanceof Date])).toEqual([
      ['pc A none', false],
      ['pc A revoked', false],
      ['pc B live', true],
    ]);
    expect(await listManagedAppsAccess(t.db, 'no-such-account', 'pc-apps')).toEqual([]);
  });

  it('managedAppBindingQuery: a managed app with ended grants, one without, a member-only app, an unknown app, an unknown client, another account', async () => {
    await addTestClient(t.db, 'pc-decide');
    const owner = t.ids.accounts['grace@example.com'] as string;
    const shop = t.ids.apps['Grace Shop'] as string;
    const memberOnly = await createApp(t.db, 'pc decide member');
    await addAppMember(t.db, memberOnly, owner, 'member');
    await issueToken(t.db, { clientId: 'pc-decide', appId: shop, accountId: owner, scope: 'app:read', tokenHash: hash(), codeHash: null });
    await endAuthorizations(t.db, { clientId: 'pc-decide', appId: shop }, 'partner_revoked');
    for (const params of [
      { appId: shop, accountId: owner, clientId: 'pc-decide' },
      { appId: shop, accountId: owner, clientId: 'shoplifter' },
      { appId: memberOnly, accountId: owner, clientId: 'pc-decide' },
      { appId: 'no-such-app', accountId: owner, clientId: 'pc-decide' },
      { appId: shop, accountId: owner, clientId: 'nobody' },
      { appId: shop, accountId: t.ids.accounts['ada@example.com'] as string, clientId: 'pc-decide' },
    ]) {
      expect(await managedAppBindingQuery(t.db, params)).toEqual(await viaBuilder(t.db, managedAppBindingQuery, params));
      // What findManagedApp and codeBinding answer.
      expect(await findManagedAppWithBinding(t.db, params.appId, params.accountId, params.clientId)).toEqual({
        app: await findManagedApp(t.db, params.appId, params.accountId),
        binding: await codeBinding(t.db, params.clientId, params.appId),
      });
    }
    expect(await findManagedAppWithBinding(t.db, shop, owner, 'pc-decide')).toMatchObject({
      app: { id: shop, name: 'Grace Shop' },
      binding: { endedGrants: 1 },
    });
    expect(await findManagedAppWithBinding(t.db, shop, owner, 'nobody')).toEqual({
      app: { id: shop, name: 'Grace Shop' },
      binding: undefined,
    });
    expect(await findManagedAppWithBinding(t.db, memberOnly, owner, 'pc-decide')).toMatchObject({ app: undefined });
  });
});

describe('precompiled query of the decision returns what the builder returns', () => {
  it('clientManagedAppBindingQuery: an active client, a disabled one, an unknown one; a managed, a member-only, an unknown app', async () => {
    await addTestClient(t.db, 'pc-guard');
    await addTestClient(t.db, 'pc-guard-off');
    await updateClient(t.db, 'pc-guard-off', { status: 'disabled' });
    const owner = t.ids.accounts['ada@example.com'] as string;
    const sales = t.ids.apps['Acme Sales'] as string;
    const memberOnly = await createApp(t.db, 'pc guard member');
    await addAppMember(t.db, memberOnly, owner, 'member');
    await issueToken(t.db, { clientId: 'pc-guard', appId: sales, accountId: owner, scope: 'app:read', tokenHash: hash(), codeHash: null });
    await endAuthorizations(t.db, { clientId: 'pc-guard', appId: sales }, 'partner_revoked');
    for (const clientId of ['pc-guard', 'pc-guard-off', 'nobody']) {
      for (const appId of [sales, memberOnly, 'no-such-app']) {
        for (const accountId of [owner, t.ids.accounts['grace@example.com'] as string]) {
          const params = { clientId, appId, accountId };
          expect(await clientManagedAppBindingQuery(t.db, params)).toEqual(await viaBuilder(t.db, clientManagedAppBindingQuery, params));
          // What findClient and findManagedAppWithBinding answer.
          const client = await findClient(t.db, clientId);
          const { app, binding } = await findManagedAppWithBinding(t.db, appId, accountId, clientId);
          expect(await findClientWithManagedAppBinding(t.db, clientId, appId, accountId)).toEqual(
            client ? { client, app, binding } : undefined,
          );
        }
      }
    }
    expect(await findClientWithManagedAppBinding(t.db, 'pc-guard', sales, owner)).toMatchObject({
      client: { client_id: 'pc-guard', status: 'active' },
      app: { id: sales, name: 'Acme Sales' },
      binding: { endedGrants: 1 },
    });
    expect((await findClientWithManagedAppBinding(t.db, 'pc-guard-off', sales, owner))?.client.status).toBe('disabled');
  });
});

describe('the rules of the layer', () => {
  it('refuses a parameter that chooses the query shape instead of being a value', async () => {
    const shapeByParam = precompiled((db: Db, { clientId, active }: { clientId: string; active: string }) => {
      const q = db.selectFrom('clients').select('client_id').where('client_id', '=', clientId);
      return active ? q.where('status', '=', 'active') : q;
    });
    await expect(shapeByParam(t.db, { clientId: 'shoplifter', active: 'yes' })).rejects.toThrow(/every parameter must appear/);
  });

  it('refuses text with NUL as the NUL guard plugin does on the builder path (plugins do not run on precompiled queries)', async () => {
    const params = { tokenHashes: ['a\u0000b'], now: new Date() };
    await expect(activeTokensQuery(t.db, params)).rejects.toBeInstanceOf(UnstorableTextError);
    await expect(viaBuilder(t.db, activeTokensQuery, params)).rejects.toBeInstanceOf(UnstorableTextError);
    // The same walk as the plugin's: inside a plain object parameter too (a JSON value), never inside a Date or Buffer.
    expect(() => assertStorable([{ note: ['x', 'a\u0000b'] }])).toThrow(UnstorableTextError);
    expect(() => assertStorable([new Date(), Buffer.from([0]), { note: 'x' }, ['y']])).not.toThrow();
  });

  it('refuses text with NUL in each parameter of each query of the consent steps, as the builder path does', async () => {
    const nul = 'a\u0000b';
    const app = t.ids.apps['Grace Shop'] as string;
    const account = t.ids.accounts['grace@example.com'] as string;
    const cases: [PrecompiledQuery<any, unknown>, Record<string, string>][] = [
      [clientQuery, { clientId: nul }],
      [managedAppsAccessQuery, { accountId: nul, clientId: 'shoplifter' }],
      [managedAppsAccessQuery, { accountId: account, clientId: nul }],
      [managedAppBindingQuery, { appId: nul, accountId: account, clientId: 'shoplifter' }],
      [managedAppBindingQuery, { appId: app, accountId: nul, clientId: 'shoplifter' }],
      [managedAppBindingQuery, { appId: app, accountId: account, clientId: nul }],
      [clientManagedAppsQuery, { clientId: nul, accountId: account }],
      [clientManagedAppsQuery, { clientId: 'shoplifter', accountId: nul }],
      [clientManagedAppBindingQuery, { clientId: nul, appId: app, accountId: account }],
      [clientManagedAppBindingQuery, { clientId: 'shoplifter', appId: nul, accountId: account }],
      [clientManagedAppBindingQuery, { clientId: 'shoplifter', appId: app, accountId: nul }],
    ];
    for (const [query, params] of cases) {
      await expect(query(t.db, params)).rejects.toBeInstanceOf(UnstorableTextError);
      await expect(viaBuilder(t.db, query, params)).rejects.toBeInstanceOf(UnstorableTextError);
    }
    await expect(findClient(t.db, nul)).rejects.toBeInstanceOf(UnstorableTextError);
  });
});
