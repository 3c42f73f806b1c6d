// Refresh tokens with rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2): each use ends the token and
// issues a new pair; a rotated token presented again ends its family (the authorization) and everything under it.
import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../db.js';
import type { RotationBatcher } from '../group-commit.js';
import { assertStorable } from '../nul-guard.js';
import { precompiled } from '../precompiled.js';
import { appendAudit } from './audit-log.js';
import { type EndedAuthorization, endWithin } from './grants.js';
import { newId } from './ids.js';

/*
 * One statement, so one round trip and atomic. The authorization is share-locked first (the rotation's UPDATE
 * reads it through `auth`), the order endWithin takes its locks in, so a rotation racing the end of its
 * authorization waits instead of deadlocking, and its new tokens are either seen by the end or not written.
 * The UPDATE marks the presented token used only while it is unused, unrevoked, unexpired and the caller's:
 * of two rotations of one token, the second waits on the first's row lock, then finds used_at set and
 * returns nothing. A `scope` narrows the new access token (never widens: RFC 6749 §6); the new refresh
 * token keeps the scope of the one it replaces. Lifetimes come from the client's current setting; the
 * family's absolute deadline and the code it started from are carried forward unchanged (a replayed code
 * ends every token issued from it, refreshed ones included: revokeTokensFromCode). With `secretId` (the secret that
 * authenticated the request, perhaps from token-service's cache) nothing rotates unless it is still the client's,
 * unrevoked and unexpired at `now`.
 */
export const rotateRefreshTokenQuery = precompiled(
  (
    db: Db,
    {
      clientId,
      secretId,
      tokenHash,
      now,
      scope,
      accessId,
      accessHash,
      refreshId,
      refreshHash,
    }: {
      clientId: string;
      secretId: string | null;
      tokenHash: string;
      now: Date;
      /** Space-separated, canonical; null keeps the presented token's scope. */
      scope: string | null;
      accessId: string;
      accessHash: string;
      refreshId: string;
      refreshHash: string;
    },
  ) => ({
    compile: () =>
      sql<{ authorization_id: string; app_id: string; scope: string; access_expires_at: Date }>`
        with client as (
          select access_token_lifetime, refresh_token_idle_lifetime from clients c
          where c.client_id = ${clientId} and c.status = 'active' and c.expiring_tokens
            and (${secretId}::text is null or exists (
              select 1 from client_secrets s
              where s.id = ${secretId}::text and s.client_id = c.client_id and s.revoked_at is null
                and (s.expires_at is null or s.expires_at > ${now}::timestamptz)))
        ), auth as (
          select a.id from authorizations a
          join refresh_tokens p on p.authorization_id = a.id
          where p.token_hash = ${tokenHash} and p.client_id = ${clientId} and a.revoked_at is null
            and exists (select 1 from client)
          for share of a
        ), used as (
          update refresh_tokens r set used_at = ${now}::timestamptz
          where r.token_hash = ${tokenHash} and r.client_id = ${clientId}
            and r.authorization_id in (select id from auth)
            and r.used_at is null and r.revoked_at is null and r.expires_at > ${now}::timestamptz
            and (${scope}::text is null
              or string_to_array(${scope}::text, ' ') <@ string_to_array(r.scope, ' '))
          returning r.authorization_id, r.app_id, r.scope, r.code_hash, r.family_expires_at
        ), access as (
          insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at)
          select ${accessId}, ${accessHash}, u.authorization_id, ${clientId}, u.app_id, coalesce(${scope}::text, u.scope), u.code_hash,
            ${now}::timestamptz + make_interval(secs => c.access_token_lifetime)
          from used u cross join client c
          returning authorization_id, app_id, scope, expires_at
        ), refreshed as (
          insert into refresh_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at, family_expires_at)
          select ${refreshId}, ${refreshHash}, u.authorization_id, ${clientId}, u.app_id, u.scope, u.code_hash,
            least(${now}::timestamptz + make_interval(secs => c.refresh_token_idle_lifetime), u.family_expires_at), u.family_expires_at
          from used u cross join client c
          where exists (select 1 from access)
        )
        select authorization_id, app_id, scope, expires_at as access_expires_at from access`.compile(db),
  }),
);

/** What a refused rotation was: a replay of a rotated token, a scope wider than granted, or anything else. */
export type RotationRefusal = 'reused' | 'invalid_scope' | 'invalid';

export type RotationResult =
  | { ok: true; authorizationId: string; appId: string; scope: string; accessExpiresAt: Date }
  | { ok: false; refusal: RotationRefusal; ended: EndedAuthorization[] };

export interface RotationInput {
  clientId: string;
  /** The secret that authenticated the request: checked live by the rotation (null: not checked). */
  secretId?: string | null;
  tokenHash: string;
  now: Date;
  scope: string | null;
  accessHash: string;
  refreshHash: string;
  requestId?: string | undefined;
}

/** Who the audit log names for what the token endpoint ends on its own. */
export const TOKEN_SERVICE_ACTOR = { adminKeyId: null, adminKeyName: 'token-service' } as const;

/** A rotation's new tokens: under which authorization and app, their scope, the access token's deadline. */
export interface RotationRow {
  authorizationId: string;
  appId: string;
  scope: string;
  accessExpiresAt: Date;
}

/** Refuses (UnstorableTextError, a 400) an input with a NUL character, which no text column or JSON text can hold. */
export function assertRotationStorable(input: RotationInput): void {
  assertStorable([input.clientId, input.secretId, input.tokenHash, input.scope, input.accessHash, input.refreshHash]);
}

const ROTATE_BATCH_SQL = 'select ordinal, authorization_id, app_id, scope, access_expires_at from rotate_refresh_tokens($1::jsonb)';

/**
 * rotateRefreshTokenQuery for many presented tokens in one call (one round trip, one commit; migration 0009): per
 * input its new tokens, or null when it did not rotate (nothing written for it; the others go on). Answered in the
 * inputs' order. Any error fails every input, nothing written: RotationBatcher retries them alone.
 */
export async function rotateRefreshTokens(db: Db, inputs: readonly RotationInput[]): Promise<(RotationRow | null)[]> {
  if (inputs.length === 0) return [];
  const rows = inputs.map((input, ordinal) => {
    assertRotationStorable(input);
    return {
      ordinal,
      client_id: input.clientId,
      secret_id: input.secretId ?? null,
      token_hash: input.tokenHash,
      now: input.now,
      scope: input.scope,
      access_id: newId(),
      access_hash: input.accessHash,
      refresh_id: newId(),
      refresh_hash: input.refreshHash,
    };
  });
  const result = await db.executeQuery<{
    ordinal: number;
    authorization_id: string;
    app_id: string;
    scope: string;
    access_expires_at: Date | string;
  }>(CompiledQuery.raw(ROTATE_BATCH_SQL, [JSON.stringify(rows)]));
  const answers: (RotationRow | null)[] = inputs.map(() => null);
  for (const row of result.rows) {
    answers[row.ordinal] = {
      authorizationId: row.authorization_id,
      appId: row.app_id,
      scope: row.scope,
      accessExpiresAt: new Date(row.access_expires_at),
    };
  }
  return answers;
}

/**
 * Rotates the refresh token behind `tokenHash`: ends it and issues the new access and refresh tokens (through
 * `rotations`, grouped with the rotations in flight with it, when given). Refused, nothing issued, when it is not the
 * client's live token; a token already rotated ends its whole family (every access and refresh token of the
 * authorization, the partner notified, the end audited).
 */
export async function rotateRefreshToken(db: Db, input: RotationInput, rotations?: RotationBatcher): Promise<RotationResult> {
  const [row] = rotations ? [await rotations.rotate(input)] : await rotateRefreshTokens(db, [input]);
  if (row) return { ok: true, ...row };
  // Refused: only now (off the hot path) is it worth telling why.
  const found = await db
    .selectFrom('refresh_tokens as r')
    .innerJoin('authorizations as a', 'a.id', 'r.authorization_id')
    .select(['r.authorization_id', 'r.used_at', 'r.revoked_at', 'r.expires_at', 'r.scope', 'a.revoked_at as authorization_revoked_at'])
    .where('r.token_hash', '=', input.tokenHash)
    .where('r.client_id', '=', input.clientId)
    .executeTakeFirst();
  if (!found || found.revoked_at !== null || found.authorization_revoked_at !== null) return { ok: false, refusal: 'invalid', ended: [] };
  if (found.used_at !== null) {
    // RFC 9700 §4.14.2: the server cannot tell the legitimate client from an attacker, so the family ends, both sides'
    // tokens with it. Two simultaneous refreshes with one token land here too: the loser ends the winner's new tokens.
    const ended = await endFamily(db, found.authorization_id, input.clientId, input.requestId);
    return { ok: false, refusal: 'reused', ended };
  }
  const expired = new Date(found.expires_at).getTime() <= input.now.getTime();
  if (!expired && input.scope !== null) {
    const granted = new Set(found.scope.split(' '));
    if (input.scope.split(' ').some((s) => !granted.has(s))) return { ok: false, refusal: 'invalid_scope', ended: [] };
  }
  return { ok: false, refusal: 'invalid', ended: [] };
}

/** Ends the authorization a reused refresh token belongs to, through the path of every other removal, and audits it. */
async function endFamily(db: Db, authorizationId: string, clientId: string, requestId: string | undefined): Promise<EndedAuthorization[]> {
  return db.transaction().execute(async (trx) => {
    const ended = await endWithin(trx, { authorizationId }, 'refresh_token_reused', requestId);
    if (ended.length > 0) {
      await appendAudit(trx, {
        ...TOKEN_SERVICE_ACTOR,
        action: 'authorization.refresh_token_reused',
        targetType: 'authorization',
        targetId: authorizationId,
        after: { client_id: clientId, app_id: ended[0]?.appId, reason: 'refresh_token_reused' },
        requestId,
      });
    }
    return ended;
  });
}

/**
 * RFC 7009 §2.1 for a refresh token: revoking the client's live refresh token ends its family (the authorization,
 * every token under it, the partner notified). False when it is not the client's live refresh token.
 */
export async function revokeClientRefreshToken(db: Db, tokenHash: string, clientId: string, requestId?: string): Promise<boolean> {
  const found = await db
    .selectFrom('refresh_tokens')
    .select('authorization_id')
    .where('token_hash', '=', tokenHash)
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (!found) return false;
  const ended = await db
    .transaction()
    .execute((trx) => endWithin(trx, { authorizationId: found.authorization_id }, 'token_revoked', requestId));
  return ended.length > 0;
}
