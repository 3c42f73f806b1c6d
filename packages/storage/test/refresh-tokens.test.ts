// Refresh tokens on the real Postgres: rotation, reuse ending the family, truly concurrent rotations, every ending path.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  endAuthorizations,
  findActiveToken,
  type IssueExpiry,
  issueToken,
  listAudit,
  openDatabase,
  revokeClientRefreshToken,
  revokeClientToken,
  revokeTokenById,
  revokeTokensFromCode,
  rotateRefreshToken,
} from '../src/index.js';
import { addTestClient, createTestDatabase, liveTokensUnderEndedAuthorizations, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  await addTestClient(t.db, 'rt-client', {
    expiring_tokens: true,
    access_token_lifetime: 600,
    refresh_token_idle_lifetime: 3600,
    allowed_scopes: ['app:read', 'users:read'],
    remove_url: 'https://rt-client.example/removed',
  });
});
afterAll(() => t.drop());

const hash = () => randomBytes(16).toString('hex');
const T0 = new Date('2026-11-30T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** A code exchange's worth of tokens for rt-client on a fresh app, with deadlines from T0. */
async function exchange(appName: string, family = 86_400) {
  const appId = (await t.db.insertInto('apps').values({ id: hash(), name: appName }).returning('id').executeTakeFirstOrThrow()).id;
  const expiry: IssueExpiry = {
    accessExpiresAt: at(600),
    refreshHash: hash(),
    refreshExpiresAt: at(Math.min(3600, family)),
    familyExpiresAt: at(family),
  };
  const accessHash = hash();
  const issued = await issueToken(t.db, {
    clientId: 'rt-client',
    appId,
    accountId: t.ids.accounts['ada@example.com'] as string,
    scope: 'app:read users:read',
    tokenHash: accessHash,
    codeHash: null,
    expiry,
  });
  return { appId, accessHash, refreshHash: expiry.refreshHash, authorizationId: issued.authorizationId };
}

const rotate = (tokenHash: string, now: Date, scope: string | null = null, clientId = 'rt-client') =>
  rotateRefreshToken(t.db, { clientId, tokenHash, now, scope, accessHash: hash(), refreshHash: hash() });

async function refreshRow(tokenHash: string) {
  return t.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirstOrThrow();
}

describe('rotation', () => {
  it('ends the presented token and issues a pair: access for the client lifetime, refresh for the idle lifetime', async () => {
    const e = await exchange('rt rotation');
    const accessHash = hash();
    const refreshHash = hash();
    const now = at(100);
    const result = await rotateRefreshToken(t.db, {
      clientId: 'rt-client',
      tokenHash: e.refreshHash,
      now,
      scope: null,
      accessHash,
      refreshHash,
    });
    expect(result).toEqual({
      ok: true,
      authorizationId: e.authorizationId,
      appId: e.appId,
      scope: 'app:read users:read',
      accessExpiresAt: at(700),
    });
    expect((await refreshRow(e.refreshHash)).used_at).toEqual(now);
    expect(await refreshRow(refreshHash)).toMatchObject({
      authorization_id: e.authorizationId,
      expires_at: at(3700),
      family_expires_at: at(86_400),
      used_at: null,
    });
    expect(await findActiveToken(t.db, accessHash, at(699))).toMatchObject({ scope: 'app:read users:read', expiresAt: at(700) });
    expect(await findActiveToken(t.db, accessHash, at(700))).toBeUndefined();
  });

  it('narrows the access token to a requested subset; the new refresh token keeps the granted scope; never widens', async () => {
    const e = await exchange('rt narrowing');
    expect(await rotate(e.refreshHash, at(1), 'app:read conversations:read')).toEqual({ ok: false, refusal: 'invalid_scope', ended: [] });
    // A refused widening leaves the token usable.
    const accessHash = hash();
    const refreshHash = hash();
    const narrowed = await rotateRefreshToken(t.db, {
      clientId: 'rt-client',
      tokenHash: e.refreshHash,
      now: at(2),
      scope: 'users:read',
      accessHash,
      refreshHash,
    });
    expect(narrowed).toMatchObject({ ok: true, scope: 'users:read' });
    expect((await findActiveToken(t.db, accessHash, at(3)))?.scope).toBe('users:read');
    expect((await refreshRow(refreshHash)).scope).toBe('app:read users:read');
  });

  it('refuses an unknown, expired or foreign token alike, and changes nothing', async () => {
    const e = await exchange('rt refusals');
    await addTestClient(t.db, 'rt-other', { expiring_tokens: true });
    expect(await rotate(hash(), at(1))).toEqual({ ok: false, refusal: 'invalid', ended: [] });
    expect(await rotate(e.refreshHash, at(1), null, 'rt-other')).toEqual({ ok: false, refusal: 'invalid', ended: [] });
    expect(await rotate(e.refreshHash, at(3600))).toEqual({ ok: false, refusal: 'invalid', ended: [] });
    expect((await refreshRow(e.refreshHash)).used_at).toBeNull();
    expect(await rotate(e.refreshHash, at(3599))).toMatchObject({ ok: true });
  });

  it('never outlives the family: the idle deadline is capped by the absolute one, which rotation carries forward', async () => {
    const e = await exchange('rt absolute', 5000);
    const refreshHash = hash();
    await rotateRefreshToken(t.db, {
      clientId: 'rt-client',
      tokenHash: e.refreshHash,
      now: at(3000),
      scope: null,
      accessHash: hash(),
      refreshHash,
    });
    expect(await refreshRow(refreshHash)).toMatchObject({ expires_at: at(5000), family_expires_at: at(5000) });
    expect(await rotate(refreshHash, at(5000))).toMatchObject({ ok: false, refusal: 'invalid' });
  });

  it('is refused once the client turns expiring tokens off or is disabled', async () => {
    await addTestClient(t.db, 'rt-toggled', { expiring_tokens: true });
    const appId = (await exchange('rt toggled app')).appId;
    const expiry: IssueExpiry = { accessExpiresAt: at(600), refreshHash: hash(), refreshExpiresAt: at(3600), familyExpiresAt: at(9000) };
    await issueToken(t.db, {
      clientId: 'rt-toggled',
      appId,
      accountId: t.ids.accounts['ada@example.com'] as string,
      scope: 'app:read',
      tokenHash: hash(),
      codeHash: null,
      expiry,
    });
    await t.db.updateTable('clients').set({ expiring_tokens: false }).where('client_id', '=', 'rt-toggled').execute();
    expect(await rotate(expiry.refreshHash, at(1), null, 'rt-toggled')).toMatchObject({ ok: false, refusal: 'invalid' });
    await t.db.updateTable('clients').set({ expiring_tokens: true, status: 'disabled' }).where('client_id', '=', 'rt-toggled').execute();
    expect(await rotate(expiry.refreshHash, at(1), null, 'rt-toggled')).toMatchObject({ ok: false, refusal: 'invalid' });
  });
});

describe('reuse of a rotated token', () => {
  it('ends the whole family (the new pair too), queues the removal notice and is audited', async () => {
    const e = await exchange('rt reuse');
    const accessHash = hash();
    const refreshHash = hash();
    await rotateRefreshToken(t.db, { clientId: 'rt-client', tokenHash: e.refreshHash, now: at(10), scope: null, accessHash, refreshHash });
    const replay = await rotate(e.refreshHash, at(20));
    expect(replay).toEqual({
      ok: false,
      refusal: 'reused',
      ended: [{ authorizationId: e.authorizationId, clientId: 'rt-client', appId: e.appId }],
    });
    expect(await findActiveToken(t.db, e.accessHash, at(21))).toBeUndefined();
    expect(await findActiveToken(t.db, accessHash, at(21))).toBeUndefined();
    expect(await rotate(refreshHash, at(22))).toEqual({ ok: false, refusal: 'invalid', ended: [] });
    const notice = await t.db.selectFrom('webhook_deliveries').selectAll().where('authorization_id', '=', e.authorizationId).execute();
    expect(notice.map((n) => [n.reason, n.url])).toEqual([['refresh_token_reused', 'https://rt-client.example/removed']]);
    const audit = (await listAudit(t.db, { limit: 100 })).filter((a) => a.target_id === e.authorizationId);
    expect(audit).toMatchObject([
      {
        action: 'authorization.refresh_token_reused',
        admin_key_name: 'token-service',
        target_type: 'authorization',
        after: { client_id: 'rt-client', app_id: e.appId },
      },
    ]);
    expect(await liveTokensUnderEndedAuthorizations(t.db)).toEqual([]);
  });

  it('two truly concurrent rotations of one token: exactly one succeeds, the other is a reuse and ends the family', async () => {
    // Separate pools, so the two statements run on separate connections at the same time.
    const pools = [await openDatabase({ databaseUrl: t.url, poolSize: 1 }), await openDatabase({ databaseUrl: t.url, poolSize: 1 })];
    try {
      for (let round = 0; round < 5; round++) {
        const e = await exchange(`rt race ${round}`);
        const results = await Promise.all(
          pools.map((db) =>
            rotateRefreshToken(db, {
              clientId: 'rt-client',
              tokenHash: e.refreshHash,
              now: at(5),
              scope: null,
              accessHash: hash(),
              refreshHash: hash(),
            }),
          ),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.refusal)).toEqual(['reused']);
        const auth = await t.db
          .selectFrom('authorizations')
          .select('revoked_at')
          .where('id', '=', e.authorizationId)
          .executeTakeFirstOrThrow();
        expect(auth.revoked_at).not.toBeNull();
        const live = await t.db
          .selectFrom('refresh_tokens')
          .select('id')
          .where('authorization_id', '=', e.authorizationId)
          .where('revoked_at', 'is', null)
          .where('used_at', 'is', null)
          .execute();
        expect(live).toEqual([]);
      }
      expect(await liveTokensUnderEndedAuthorizations(t.db)).toEqual([]);
    } finally {
      await Promise.all(pools.map((db) => db.destroy()));
    }
  });

  it('a rotation racing the end of its authorization leaves no live token under the ended one', async () => {
    const pools = [await openDatabase({ databaseUrl: t.url, poolSize: 1 }), await openDatabase({ databaseUrl: t.url, poolSize: 1 })];
    try {
      for (let round = 0; round < 5; round++) {
        const e = await exchange(`rt end race ${round}`);
        const [rotated] = await Promise.all([
          rotateRefreshToken(pools[0] as never, {
            clientId: 'rt-client',
            tokenHash: e.refreshHash,
            now: at(5),
            scope: null,
            accessHash: hash(),
            refreshHash: hash(),
          }),
          endAuthorizations(pools[1] as never, { authorizationId: e.authorizationId }, 'owner_removed'),
        ]);
        expect(['invalid', true]).toContain(rotated.ok || (!rotated.ok && rotated.refusal));
      }
      expect(await liveTokensUnderEndedAuthorizations(t.db)).toEqual([]);
    } finally {
      await Promise.all(pools.map((db) => db.destroy()));
    }
  });
});

describe('codes and refresh tokens (RFC 6749 §4.1.2)', () => {
  it('revokeTokensFromCode ends the family the code started, rotations included; revokeTokenById the pair issued together', async () => {
    const appId = (await t.db.insertInto('apps').values({ id: hash(), name: 'rt code' }).returning('id').executeTakeFirstOrThrow()).id;
    const issue = async (codeHash: string) => {
      const expiry: IssueExpiry = { accessExpiresAt: at(600), refreshHash: hash(), refreshExpiresAt: at(3600), familyExpiresAt: at(9000) };
      const accessHash = hash();
      const { tokenId } = await issueToken(t.db, {
        clientId: 'rt-client',
        appId,
        accountId: t.ids.accounts['ada@example.com'] as string,
        scope: 'app:read',
        tokenHash: accessHash,
        codeHash,
        expiry,
      });
      return { tokenId, accessHash, refreshHash: expiry.refreshHash };
    };
    const code = hash();
    const first = await issue(code);
    const accessHash = hash();
    const refreshHash = hash();
    await rotateRefreshToken(t.db, {
      clientId: 'rt-client',
      tokenHash: first.refreshHash,
      now: at(1),
      scope: null,
      accessHash,
      refreshHash,
    });
    expect(await revokeTokensFromCode(t.db, code)).toBe(2);
    expect(await findActiveToken(t.db, accessHash, at(2))).toBeUndefined();
    expect(await rotate(refreshHash, at(2))).toEqual({ ok: false, refusal: 'invalid', ended: [] });

    const other = await issue(hash());
    await revokeTokenById(t.db, other.tokenId);
    expect((await refreshRow(other.refreshHash)).revoked_at).not.toBeNull();
  });
});

describe('every ending path ends refresh tokens', () => {
  it('endAuthorizations (owner, partner, admin, kill switch, client delete) revokes them', async () => {
    const e = await exchange('rt ended');
    await endAuthorizations(t.db, { clientId: 'rt-client', appId: e.appId }, 'partner_revoked');
    expect((await refreshRow(e.refreshHash)).revoked_at).not.toBeNull();
    expect(await rotate(e.refreshHash, at(1))).toEqual({ ok: false, refusal: 'invalid', ended: [] });
  });

  it('RFC 7009: revoking the refresh token ends its family; another client cannot; a rotated one is a no-op', async () => {
    const e = await exchange('rt revoked');
    expect(await revokeClientRefreshToken(t.db, e.refreshHash, 'shoplifter')).toBe(false);
    expect(await findActiveToken(t.db, e.accessHash, at(1))).toBeDefined();
    expect(await revokeClientRefreshToken(t.db, e.refreshHash, 'rt-client')).toBe(true);
    expect(await findActiveToken(t.db, e.accessHash, at(1))).toBeUndefined();
    const notice = await t.db.selectFrom('webhook_deliveries').select('reason').where('authorization_id', '=', e.authorizationId).execute();
    expect(notice).toEqual([{ reason: 'token_revoked' }]);
    const f = await exchange('rt revoked rotated');
    await rotate(f.refreshHash, at(1));
    expect(await revokeClientRefreshToken(t.db, f.refreshHash, 'rt-client')).toBe(false);
  });

  it('revoking the access token keeps the authorization while a live refresh token remains', async () => {
    const e = await exchange('rt access revoked');
    expect(await revokeClientToken(t.db, e.accessHash, 'rt-client')).toBe(true);
    const auth = await t.db.selectFrom('authorizations').select('revoked_at').where('id', '=', e.authorizationId).executeTakeFirstOrThrow();
    expect(auth.revoked_at).toBeNull();
    expect(await rotate(e.refreshHash, at(1))).toMatchObject({ ok: true });
  });
});
