import { sha256 } from '@partner-oauth/service-kit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  appendAudit,
  codeBinding,
  createApp,
  createClient,
  DEV_ADMIN_KEY,
  endAuthorizations,
  findActiveToken,
  findClient,
  findLiveAdminKey,
  findMemberApp,
  isMigrated,
  issueToken,
  issueTokenFromCode,
  issueTokensFromCodes,
  listAppsForAccount,
  listAudit,
  listClients,
  liveSecretHashes,
  migrateToLatest,
  newCodeEpoch,
  openDatabase,
  revokeAdminKey,
  revokeClientToken,
  revokeTokensFromCode,
  rotateRefreshToken,
  seedDemoData,
  seedDevAdminKey,
  sweepRetention,
} from '../src/index.js';
import { createTestDatabase, liveTokensUnderEndedAuthorizations, TEST_PASSWORD_PARAMS, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
});
afterAll(() => t.drop());

describe('storage on Postgres', () => {
  it('is migrated and seeded with the demo data', async () => {
    expect(await isMigrated(t.db)).toBe(true);
    const shoplifter = await findClient(t.db, 'shoplifter');
    expect(shoplifter).toMatchObject({ client_name: 'Shoplifter', redirect_uris: ['http://localhost:4000/callback'], status: 'active' });
    const ada = t.ids.accounts['ada@example.com'] as string;
    expect((await listAppsForAccount(t.db, ada)).map((a) => a.name)).toEqual(['Acme Sales', 'Acme Support']);
    expect(await listAppsForAccount(t.db, t.ids.accounts['nobody@example.com'] as string)).toEqual([]);
    const secrets = await liveSecretHashes(t.db, 'shoplifter', new Date());
    expect(secrets.map((s) => s.secret_hash)).toEqual([sha256('secret')]);
  });

  it('seeding twice creates nothing new', async () => {
    const again = await seedDemoData(t.db, TEST_PASSWORD_PARAMS);
    expect(again).toEqual(t.ids);
  });

  it('finds an app only for its members', async () => {
    const sales = t.ids.apps['Acme Sales'] as string;
    expect(await findMemberApp(t.db, sales, t.ids.accounts['ada@example.com'] as string)).toEqual({ id: sales, name: 'Acme Sales' });
    expect(await findMemberApp(t.db, sales, t.ids.accounts['grace@example.com'] as string)).toBeUndefined();
  });

  it('issues tokens under one live authorization per partner and app', async () => {
    const appId = t.ids.apps['Grace Shop'] as string;
    const accountId = t.ids.accounts['grace@example.com'] as string;
    const a = await issueToken(t.db, {
      clientId: 'shoplifter',
      appId,
      accountId,
      scope: '',
      tokenHash: sha256('t1'),
      codeHash: sha256('c1'),
    });
    const b = await issueToken(t.db, {
      clientId: 'shoplifter',
      appId,
      accountId,
      scope: '',
      tokenHash: sha256('t2'),
      codeHash: sha256('c2'),
    });
    expect(b.authorizationId).toBe(a.authorizationId);
    const found = await findActiveToken(t.db, sha256('t2'));
    expect(found).toMatchObject({ clientId: 'shoplifter', appId, appName: 'Grace Shop', accountId, authorizationId: a.authorizationId });
    expect(await findActiveToken(t.db, sha256('nope'))).toBeUndefined();
    const rows = await t.db.selectFrom('access_tokens').select('token_hash').execute();
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });

  it('a new consent with another scope or grantor updates the live authorization; the same one leaves it be', async () => {
    const appId = t.ids.apps['Acme Support'] as string;
    const ada = t.ids.accounts['ada@example.com'] as string;
    const grace = t.ids.accounts['grace@example.com'] as string;
    const issue = (token: string, accountId: string, scope: string) =>
      issueToken(t.db, { clientId: 'shoplifter', appId, accountId, scope, tokenHash: sha256(token), codeHash: null });
    const first = await issue('sc-1', ada, 'app:read');
    const live = () => t.db.selectFrom('authorizations').selectAll().where('id', '=', first.authorizationId).executeTakeFirstOrThrow();
    expect(await live()).toMatchObject({ granted_by: ada, scope: 'app:read' });
    const same = await issue('sc-2', ada, 'app:read');
    expect(same.authorizationId).toBe(first.authorizationId);
    const wider = await issue('sc-3', grace, 'app:read users:read');
    expect(wider.authorizationId).toBe(first.authorizationId);
    expect(await live()).toMatchObject({ granted_by: grace, scope: 'app:read users:read', revoked_at: null });
    expect(await findActiveToken(t.db, sha256('sc-3'))).toMatchObject({ scope: 'app:read users:read', accountId: grace });
    expect(await findActiveToken(t.db, sha256('sc-1'))).toMatchObject({ scope: 'app:read' });
  });

  it('concurrent first consents for one partner and app make one authorization', async () => {
    const appId = await createApp(t.db, 'Race App');
    const ada = t.ids.accounts['ada@example.com'] as string;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        issueToken(t.db, {
          clientId: 'shoplifter',
          appId,
          accountId: ada,
          scope: 'app:read',
          tokenHash: sha256(`race-${i}`),
          codeHash: null,
        }),
      ),
    );
    expect(new Set(results.map((r) => r.authorizationId)).size).toBe(1);
    const rows = await t.db.selectFrom('access_tokens').select('id').where('app_id', '=', appId).execute();
    expect(rows).toHaveLength(8);
  });

  it('pages clients by creation order with a keyset', async () => {
    for (const n of [1, 2, 3]) {
      await createClient(t.db, { client_id: `page-${n}`, client_name: `P${n}`, redirect_uris: ['https://p.example/cb'] }, sha256(`s${n}`));
    }
    const first = await listClients(t.db, { limit: 2 });
    const last = first.at(-1);
    if (!last) throw new Error('no rows');
    const next = await listClients(t.db, { limit: 10, afterId: last.client_id });
    const all = [...first, ...next].map((c) => c.client_id);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(['shoplifter', 'page-1', 'page-2', 'page-3']));
  });
});

describe('the token tables', () => {
  it('keep only the indexes a query uses: every token written pays for each one', async () => {
    const indexes = await t.db
      .selectFrom('pg_indexes' as never)
      .select(['tablename' as never, 'indexname' as never])
      .where('tablename' as never, 'in', ['access_tokens', 'refresh_tokens'] as never)
      .orderBy('indexname' as never)
      .execute();
    // By hash (token_hash_key), id (pkey), authorization (endWithin), code (revokeTokensFromCode), deadlines (retention).
    expect(indexes.map((i) => `${(i as { tablename: string }).tablename} ${(i as { indexname: string }).indexname}`)).toEqual([
      'access_tokens access_tokens_authorization_idx',
      'access_tokens access_tokens_code_idx',
      'access_tokens access_tokens_expires_idx',
      'access_tokens access_tokens_pkey',
      'access_tokens access_tokens_revoked_idx',
      'access_tokens access_tokens_token_hash_key',
      'refresh_tokens refresh_tokens_authorization_idx',
      'refresh_tokens refresh_tokens_code_idx',
      'refresh_tokens refresh_tokens_family_expires_idx',
      'refresh_tokens refresh_tokens_pkey',
      'refresh_tokens refresh_tokens_revoked_idx',
      'refresh_tokens refresh_tokens_token_hash_key',
    ]);
  });
});

describe('ending authorizations', () => {
  const grace = () => ({ appId: t.ids.apps['Grace Shop'] as string, accountId: t.ids.accounts['grace@example.com'] as string });
  const issue = (token: string, code: string | null = null) =>
    issueToken(t.db, { clientId: 'shoplifter', ...grace(), scope: 'app:read', tokenHash: sha256(token), codeHash: code && sha256(code) });

  it('ends the authorization and every token under it, and queues one removal notice', async () => {
    await issue('end-1');
    await issue('end-2');
    const ended = await endAuthorizations(t.db, { clientId: 'shoplifter', appId: grace().appId }, 'partner_revoked', 'req-1');
    expect(ended).toHaveLength(1);
    expect(await findActiveToken(t.db, sha256('end-1'))).toBeUndefined();
    expect(await findActiveToken(t.db, sha256('end-2'))).toBeUndefined();
    const outbox = await t.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('authorization_id', '=', ended[0]?.authorizationId as string)
      .execute();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      url: 'http://localhost:4000/removed',
      status: 'pending',
      attempts: 0,
      request_id: 'req-1',
      reason: 'partner_revoked',
    });
    expect(JSON.parse(outbox[0]?.payload as string)).toEqual({
      type: 'authorization.removed',
      id: outbox[0]?.id,
      client_id: 'shoplifter',
      app_id: grace().appId,
      reason: 'partner_revoked',
      removed_at: expect.any(String),
    });
    expect(await endAuthorizations(t.db, { clientId: 'shoplifter', appId: grace().appId }, 'partner_revoked')).toEqual([]);
  });

  // Regression (tests/faults chaos.test.ts): a token issued under the live authorization while an admin ended it
  // was inserted after the end had revoked that authorization's tokens, and stayed live under an ended one. Both
  // ways a token is issued: directly, and through the code exchange's batched write (0008), one input per call.
  const issuers = {
    issueToken: (input: Parameters<typeof issueToken>[1]) => issueToken(t.db, input),
    issueTokenFromCode: async (input: Parameters<typeof issueToken>[1]) => {
      const issued = await issueTokenFromCode(t.db, {
        ...input,
        redirectUri: 'http://localhost:4000/callback',
        binding: null,
        secretId: null,
        now: new Date(),
      });
      if (!issued) throw new Error('refused');
      return issued;
    },
  };
  it.each(Object.keys(issuers) as (keyof typeof issuers)[])(
    'a token issued (%s) while its authorization is being ended is never left live under it',
    async (name) => {
      const appId = t.ids.apps['Acme Support'] as string;
      const accountId = t.ids.accounts['ada@example.com'] as string;
      const issue = (n: string) =>
        issuers[name]({
          clientId: 'shoplifter',
          appId,
          accountId,
          scope: 'app:read',
          tokenHash: sha256(`${n}-${Math.random()}`),
          codeHash: null,
        });
      for (let round = 0; round < 40; round++) {
        const { authorizationId } = await issue('first');
        await Promise.all([issue('racing'), endAuthorizations(t.db, { authorizationId }, 'admin_removed')]);
      }
      expect(await liveTokensUnderEndedAuthorizations(t.db)).toEqual([]);
    },
  );

  // Regression (tests/faults chaos.test.ts): a partner revoking its token while an admin ended the same
  // authorization took the two row locks in opposite orders, and Postgres broke the deadlock with a 500.
  it('a revocation racing an admin ending the same authorization never deadlocks', async () => {
    const appId = t.ids.apps['Acme Sales'] as string;
    const accountId = t.ids.accounts['ada@example.com'] as string;
    for (let round = 0; round < 40; round++) {
      const hash = sha256(`race-${round}-${Math.random()}`);
      const { authorizationId } = await issueToken(t.db, {
        clientId: 'shoplifter',
        appId,
        accountId,
        scope: 'app:read',
        tokenHash: hash,
        codeHash: null,
      });
      const [revoked, ended] = await Promise.all([
        revokeClientToken(t.db, hash, 'shoplifter'),
        endAuthorizations(t.db, { authorizationId }, 'admin_removed'),
      ]);
      // Whichever came first ended the authorization; the token is dead either way, and nothing failed.
      expect(revoked || ended.length === 1).toBe(true);
      expect(await findActiveToken(t.db, hash)).toBeUndefined();
    }
  });

  it('RFC 7009: revoking the last token ends the authorization; another client cannot revoke it', async () => {
    await issue('rev-1');
    await issue('rev-2');
    expect(await revokeClientToken(t.db, sha256('rev-1'), 'someone-else')).toBe(false);
    expect(await findActiveToken(t.db, sha256('rev-1'))).toBeDefined();
    expect(await revokeClientToken(t.db, sha256('rev-1'), 'shoplifter')).toBe(true);
    expect(await findActiveToken(t.db, sha256('rev-2'))).toBeDefined();
    const live = () =>
      t.db
        .selectFrom('authorizations')
        .select('id')
        .where('client_id', '=', 'shoplifter')
        .where('app_id', '=', grace().appId)
        .where('revoked_at', 'is', null)
        .execute();
    expect(await live()).toHaveLength(1);
    expect(await revokeClientToken(t.db, sha256('rev-2'), 'shoplifter')).toBe(true);
    expect(await live()).toHaveLength(0);
    expect(await revokeClientToken(t.db, sha256('rev-2'), 'shoplifter')).toBe(false);
  });

  it('revokes every token issued from a replayed code', async () => {
    await issue('code-tok', 'the-code');
    expect(await revokeTokensFromCode(t.db, sha256('the-code'))).toBe(1);
    expect(await findActiveToken(t.db, sha256('code-tok'))).toBeUndefined();
    expect(await revokeTokensFromCode(t.db, sha256('the-code'))).toBe(0);
  });
});

describe('the development admin key', () => {
  it('is never in a seeded test database, is seeded idempotently, and stays revoked once revoked', async () => {
    expect(await findLiveAdminKey(t.db, sha256(DEV_ADMIN_KEY))).toBeUndefined();
    await seedDevAdminKey(t.db);
    await seedDevAdminKey(t.db);
    expect(await t.db.selectFrom('admin_keys').select('id').execute()).toHaveLength(1);
    expect(await revokeAdminKey(t.db, 'development (embedded default)')).toHaveLength(1);
    await seedDevAdminKey(t.db);
    expect(await findLiveAdminKey(t.db, sha256(DEV_ADMIN_KEY))).toBeUndefined();
  });
});

describe('storage on embedded PGlite', () => {
  it('runs the same migrations and seed', { timeout: 120_000 }, async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      expect(await migrateToLatest(db)).toEqual([
        '0001_initial',
        '0002_scopes_pkce_webhooks',
        '0003_admin_keys_audit',
        '0004_grant_epochs',
        '0005_retention_indexes',
        '0006_expiring_tokens',
        '0007_authorization_last_used',
        '0008_issue_tokens_from_codes',
        '0009_rotate_refresh_tokens',
        '0010_drop_unused_token_index',
        '0011_replayed_codes',
        '0012_issue_token_from_code',
      ]);
      expect(await migrateToLatest(db)).toEqual([]);
      const ids = await seedDemoData(db, TEST_PASSWORD_PARAMS);
      expect(Object.keys(ids.apps).sort()).toEqual(['Acme Sales', 'Acme Support', 'Grace Shop']);
      const appId = ids.apps['Acme Sales'] as string;
      await issueToken(db, {
        clientId: 'shoplifter',
        appId,
        accountId: ids.accounts['ada@example.com'] as string,
        scope: '',
        tokenHash: sha256('x'),
        codeHash: null,
      });
      expect(await findActiveToken(db, sha256('x'))).toMatchObject({ appName: 'Acme Sales' });
      // The code exchange's guarded statement (uuid epoch, redirect URI membership, ended-grant count) on PGlite too.
      const binding = await codeBinding(db, 'shoplifter', appId);
      expect(binding).toMatchObject({ endedGrants: 0 });
      const fromCode = {
        clientId: 'shoplifter',
        appId,
        accountId: ids.accounts['ada@example.com'] as string,
        scope: 'app:read',
        codeHash: sha256('code'),
        redirectUri: 'http://localhost:4000/callback',
        binding: binding ?? null,
        secretId: null,
        now: new Date(),
      };
      expect(await issueTokenFromCode(db, { ...fromCode, tokenHash: sha256('y') })).toMatchObject({ tokenId: expect.any(String) });
      expect(await issueTokenFromCode(db, { ...fromCode, tokenHash: sha256('z'), redirectUri: 'https://elsewhere.example/cb' })).toBeNull();
      // The batched exchange (0008, a PL/pgSQL function) on PGlite too: one call, a row issued beside rows refused.
      const batch = await issueTokensFromCodes(db, [
        { ...fromCode, tokenHash: sha256('b1') },
        { ...fromCode, tokenHash: sha256('b2'), secretId: 'no-such-secret' },
        { ...fromCode, tokenHash: sha256('b3'), binding: fromCode.binding && { ...fromCode.binding, endedGrants: 1 } },
      ]);
      expect(batch.map((r) => r.status)).toEqual(['issued', 'client_refused', 'grant_ended']);
      expect(await findActiveToken(db, sha256('b1'))).toMatchObject({ tokenId: batch[0]?.tokenId });
      // Expiring tokens on PGlite too: the code exchange with a refresh token, its rotation (share lock, make_interval), its reuse.
      await db.updateTable('clients').set({ expiring_tokens: true }).where('client_id', '=', 'shoplifter').execute();
      const soon = (s: number) => new Date(Date.now() + s * 1000);
      const expiry = { accessExpiresAt: soon(60), refreshHash: sha256('r1'), refreshExpiresAt: soon(120), familyExpiresAt: soon(600) };
      expect(await issueTokenFromCode(db, { ...fromCode, tokenHash: sha256('v'), expiry })).toMatchObject({ tokenId: expect.any(String) });
      const rotation = { clientId: 'shoplifter', now: new Date(), scope: 'app:read', accessHash: sha256('v2'), refreshHash: sha256('r2') };
      expect(await rotateRefreshToken(db, { ...rotation, tokenHash: sha256('r1') })).toMatchObject({ ok: true, scope: 'app:read' });
      expect(await findActiveToken(db, sha256('v2'))).toMatchObject({ expiresAt: expect.any(Date) });
      const replay = { ...rotation, tokenHash: sha256('r1'), accessHash: sha256('v3'), refreshHash: sha256('r3') };
      expect(await rotateRefreshToken(db, replay)).toMatchObject({ ok: false, refusal: 'reused' });
      expect(await findActiveToken(db, sha256('v2'))).toBeUndefined();
      await db.updateTable('clients').set({ expiring_tokens: false }).where('client_id', '=', 'shoplifter').execute();
      const reissued = await issueTokenFromCode(db, {
        ...fromCode,
        tokenHash: sha256('y2'),
        binding: (await codeBinding(db, 'shoplifter', appId)) ?? null,
      });
      expect(reissued).toMatchObject({ tokenId: expect.any(String) });
      await newCodeEpoch(db, 'shoplifter');
      expect(await issueTokenFromCode(db, { ...fromCode, tokenHash: sha256('w') })).toBeNull();
      // The embedded default's admin key and the audit log work on PGlite too (the log's bigint id read as text).
      await seedDevAdminKey(db);
      expect(await findLiveAdminKey(db, sha256(DEV_ADMIN_KEY))).toMatchObject({ name: 'development (embedded default)' });
      await appendAudit(db, { adminKeyId: null, adminKeyName: 'cli', action: 'x.test', targetType: 'x', targetId: '1', after: { a: 1 } });
      expect(await listAudit(db, { limit: 5 })).toMatchObject([
        { id: '2', action: 'x.test', before: null, after: { a: 1 } },
        { id: '1', action: 'authorization.refresh_token_reused', admin_key_name: 'token-service' },
      ]);
      // The embedded default sweeps too: the advisory lock and the batched deletes work on PGlite.
      expect(await revokeTokensFromCode(db, sha256('no such code'))).toBe(0);
      await endAuthorizations(db, { clientId: 'shoplifter' }, 'admin_removed');
      const later = new Date(Date.now() + 3_600_000);
      const swept = await sweepRetention(db, { now: later, retentionSeconds: 60, auditRetentionSeconds: 86_400 });
      // Tokens 'x', 'y', 'b1', 'v', 'v2' under the authorization the refresh reuse ended, 'y2' under the one the admin ended.
      // The refresh tokens 'r1' (rotated) and 'r2' (its successor), revoked with their authorization, go first.
      expect(swept).toEqual({
        swept: true,
        // The marker left by the replay of "no such code" above, past its life.
        deleted: { refresh_tokens: 2, access_tokens: 6, authorizations: 2, webhook_deliveries: 0, audit_log: 0, replayed_codes: 1 },
      });
      expect(await db.selectFrom('access_tokens').select('id').execute()).toEqual([]);
    } finally {
      await db.destroy();
    }
    // PGlite starts, migrates and seeds in WebAssembly: seconds alone, tens of seconds on a loaded machine.
  });
});
