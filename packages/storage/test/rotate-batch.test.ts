// The refresh grant's batched rotation (rotate_refresh_tokens, RotationBatcher): per row what the single statement
// (rotateRefreshTokenQuery) does, two rotations of one token in one batch, and the batcher's grouping, isolation of a
// failing row and answer after commit.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../src/db.js';
import {
  type IssueExpiry,
  issueToken,
  newId,
  RotationBatcher,
  type RotationInput,
  rotateRefreshToken,
  rotateRefreshTokenQuery,
  rotateRefreshTokens,
  UnstorableTextError,
} from '../src/index.js';
import { addTestClient, createTestDatabase, liveTokensUnderEndedAuthorizations, rolledBack, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  await addTestClient(t.db, 'rb-client', {
    expiring_tokens: true,
    access_token_lifetime: 600,
    refresh_token_idle_lifetime: 3600,
    allowed_scopes: ['app:read', 'users:read'],
  });
});
afterAll(() => t.drop());

const hash = () => randomBytes(16).toString('hex');
const T0 = new Date('2026-11-30T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** A code exchange's worth of tokens for rb-client on a fresh app: its refresh token's hash and authorization. */
async function family(family = 86_400) {
  const appId = (await t.db.insertInto('apps').values({ id: hash(), name: 'rb app' }).returning('id').executeTakeFirstOrThrow()).id;
  const expiry: IssueExpiry = {
    accessExpiresAt: at(600),
    refreshHash: hash(),
    refreshExpiresAt: at(Math.min(3600, family)),
    familyExpiresAt: at(family),
  };
  const issued = await issueToken(t.db, {
    clientId: 'rb-client',
    appId,
    accountId: t.ids.accounts['ada@example.com'] as string,
    scope: 'app:read users:read',
    tokenHash: hash(),
    codeHash: hash(),
    expiry,
  });
  return { refreshHash: expiry.refreshHash, authorizationId: issued.authorizationId, appId };
}

const rotation = (tokenHash: string, over: Partial<RotationInput> = {}): RotationInput => ({
  clientId: 'rb-client',
  secretId: null,
  tokenHash,
  now: at(10),
  scope: null,
  accessHash: hash(),
  refreshHash: hash(),
  ...over,
});

/** rb-client's tokens, without their ids (each call makes its own). */
async function state(trx: Db) {
  return {
    access: await trx
      .selectFrom('access_tokens')
      .select(['token_hash', 'authorization_id', 'app_id', 'scope', 'code_hash', 'expires_at', 'revoked_at'])
      .where('client_id', '=', 'rb-client')
      .orderBy('token_hash')
      .execute(),
    refresh: await trx
      .selectFrom('refresh_tokens')
      .select(['token_hash', 'authorization_id', 'scope', 'code_hash', 'used_at', 'expires_at', 'family_expires_at', 'revoked_at'])
      .where('client_id', '=', 'rb-client')
      .orderBy('token_hash')
      .execute(),
  };
}

describe('rotate_refresh_tokens', () => {
  it('answers and writes per row what the single statement does: live, narrower, wider, unknown, foreign, expired, secrets', async () => {
    const a = await family();
    const b = await family(5);
    const [secret] = await t.db.selectFrom('client_secrets').select('id').where('client_id', '=', 'rb-client').execute();
    const cases: RotationInput[] = [
      rotation(a.refreshHash),
      rotation(a.refreshHash, { secretId: secret?.id as string }),
      rotation(a.refreshHash, { secretId: 'no-such-secret' }),
      rotation(a.refreshHash, { scope: 'users:read' }),
      rotation(a.refreshHash, { scope: 'app:read conversations:read' }),
      rotation(hash()),
      rotation(a.refreshHash, { clientId: 'shoplifter' }),
      rotation(b.refreshHash),
      rotation(b.refreshHash, { now: at(4) }),
    ];
    const single = (trx: Db, input: RotationInput) =>
      rotateRefreshTokenQuery(trx, {
        clientId: input.clientId,
        secretId: input.secretId ?? null,
        tokenHash: input.tokenHash,
        now: input.now,
        scope: input.scope,
        accessId: newId(),
        accessHash: input.accessHash,
        refreshId: newId(),
        refreshHash: input.refreshHash,
      });
    const rotated: boolean[] = [];
    for (const input of cases) {
      const batched = await rolledBack(t.db, async (trx) => ({ rows: await rotateRefreshTokens(trx, [input]), after: await state(trx) }));
      const reference = await rolledBack(t.db, async (trx) => {
        const rows = await single(trx, input);
        return {
          rows: rows.map((r) => ({
            authorizationId: r.authorization_id,
            appId: r.app_id,
            scope: r.scope,
            accessExpiresAt: new Date(r.access_expires_at),
          })),
          after: await state(trx),
        };
      });
      expect(batched.after).toEqual(reference.after);
      expect(batched.rows.filter((r) => r !== null)).toEqual(reference.rows);
      rotated.push(batched.rows[0] !== null);
    }
    expect(rotated).toEqual([true, true, false, true, false, false, false, false, true]);
    // The rows that rotate alone rotate together in one call, each with its own answer, the others answered null.
    const together = [rotation(hash()), rotation(a.refreshHash, { scope: 'users:read' }), rotation(b.refreshHash, { now: at(4) })];
    const answers = await rolledBack(t.db, (trx) => rotateRefreshTokens(trx, together));
    expect(answers).toEqual([
      null,
      { authorizationId: a.authorizationId, appId: a.appId, scope: 'users:read', accessExpiresAt: at(610) },
      { authorizationId: b.authorizationId, appId: b.appId, scope: 'app:read users:read', accessExpiresAt: at(604) },
    ]);
  });

  it('rotates one token once when it comes twice in a batch: the first to arrive wins, the second finds it used', async () => {
    const a = await family();
    const first = rotation(a.refreshHash);
    const second = rotation(a.refreshHash);
    const answers = await rotateRefreshTokens(t.db, [first, second]);
    expect(answers[0]).toMatchObject({ authorizationId: a.authorizationId });
    expect(answers[1]).toBeNull();
    const after = await state(t.db);
    expect(after.refresh.filter((r) => r.authorization_id === a.authorizationId).map((r) => [r.token_hash, r.used_at !== null])).toEqual(
      [
        [a.refreshHash, true],
        [first.refreshHash, false],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(after.access.some((r) => r.token_hash === second.accessHash)).toBe(false);
  });
});

describe('RotationBatcher', () => {
  function counted() {
    const calls: number[] = [];
    const batcher = new RotationBatcher(t.db, {
      write: (db, inputs) => {
        calls.push(inputs.length);
        return rotateRefreshTokens(db, inputs);
      },
    });
    return { batcher, calls };
  }

  it('sends a lone rotation at once and the ones arriving meanwhile in the next call, each answered with its own tokens', async () => {
    const families = await Promise.all(Array.from({ length: 12 }, () => family()));
    const { batcher, calls } = counted();
    const inputs = families.map((f) => rotation(f.refreshHash));
    const answers = await Promise.all(inputs.map((i) => batcher.rotate(i)));
    expect(calls).toEqual([1, 11]);
    expect(answers.map((a) => a?.authorizationId)).toEqual(families.map((f) => f.authorizationId));
    const written = await t.db
      .selectFrom('access_tokens')
      .select(['token_hash', 'authorization_id'])
      .where(
        'token_hash',
        'in',
        inputs.map((i) => i.accessHash),
      )
      .execute();
    expect(new Map(written.map((w) => [w.token_hash, w.authorization_id]))).toEqual(
      new Map(inputs.map((i, n) => [i.accessHash, families[n]?.authorizationId])),
    );
  });

  it('two refreshes of one token in flight together: one rotates, the other is a reuse and ends the family', async () => {
    const a = await family();
    const { batcher, calls } = counted();
    const lead = family().then((f) => batcher.rotate(rotation(f.refreshHash)));
    const racing = [rotation(a.refreshHash), rotation(a.refreshHash)].map((i) => rotateRefreshToken(t.db, i, batcher));
    const results = await Promise.all(racing);
    await lead;
    expect(calls.reduce((n, c) => n + c, 0)).toBe(3);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.flatMap((r) => (r.ok ? [] : [r.refusal]))).toEqual(['reused']);
    const auth = await t.db.selectFrom('authorizations').select('revoked_at').where('id', '=', a.authorizationId).executeTakeFirstOrThrow();
    expect(auth.revoked_at).not.toBeNull();
    expect(await liveTokensUnderEndedAuthorizations(t.db)).toEqual([]);
  });

  it('fails only the caller whose row fails the call (an access token hash already taken): the others rotate one per call', async () => {
    const families = await Promise.all(Array.from({ length: 4 }, () => family()));
    const taken = (
      await t.db.selectFrom('access_tokens').select('token_hash').where('client_id', '=', 'rb-client').executeTakeFirstOrThrow()
    ).token_hash;
    const { batcher, calls } = counted();
    const lead = batcher.rotate(rotation((families[0] as { refreshHash: string }).refreshHash));
    const grouped = families.slice(1).map((f, i) => rotation(f.refreshHash, i === 1 ? { accessHash: taken } : {}));
    const settled = await Promise.allSettled([lead, ...grouped.map((i) => batcher.rotate(i))]);
    expect(calls).toEqual([1, 3, 1, 1, 1]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/duplicate key/);
    // The failing row wrote nothing: its token is still live, for the partner's retry.
    const kept = await t.db
      .selectFrom('refresh_tokens')
      .select('used_at')
      .where('token_hash', '=', (families[2] as { refreshHash: string }).refreshHash)
      .executeTakeFirstOrThrow();
    expect(kept.used_at).toBeNull();
  });

  it('refuses an input holding a NUL character alone, as the NUL guard does, without sending it', async () => {
    const { batcher, calls } = counted();
    await expect(batcher.rotate(rotation(hash(), { scope: 'app:read\u0000' }))).rejects.toBeInstanceOf(UnstorableTextError);
    expect(calls).toEqual([]);
  });

  it('answers a caller only once its batch committed: its new tokens are visible from another connection', async () => {
    const families = await Promise.all(Array.from({ length: 8 }, () => family()));
    const { batcher } = counted();
    const other = new pg.Pool({ connectionString: t.url, max: 1 });
    try {
      const seen = await Promise.all(
        families.map(async (f) => {
          const input = rotation(f.refreshHash);
          await batcher.rotate(input);
          const { rows } = await other.query('select 1 from refresh_tokens where token_hash = $1', [input.refreshHash]);
          return rows.length;
        }),
      );
      expect(seen).toEqual(Array(8).fill(1));
    } finally {
      await other.end();
    }
  });
});
