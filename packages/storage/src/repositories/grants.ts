// Authorizations (a partner's access to an app) and the access tokens issued under them.
import type { RemovalNotification, RemovalReason } from '@partner-oauth/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Db } from '../db.js';
import { assertStorable } from '../nul-guard.js';
import { precompiled } from '../precompiled.js';
import type { Database } from '../schema.js';
import { newId } from './ids.js';

export interface IssueTokenInput {
  clientId: string;
  appId: string;
  accountId: string;
  scope: string;
  tokenHash: string;
  codeHash: string | null;
}

/*
 * One statement: join the live authorization of this partner on this app (updating who granted it and
 * its scope only when they changed, so the common case takes no row lock), or create it; then insert
 * the token under it. (A data-modifying CTE runs whether or not the main query reads it.) Two first consents racing meet in ON CONFLICT, which returns the winner's row.
 */
const issueTokenQuery = precompiled(
  (
    db: Db,
    authId: string,
    tokenId: string,
    clientId: string,
    appId: string,
    accountId: string,
    scope: string,
    tokenHash: string,
    codeHash: string | null,
  ) => ({
    compile: () =>
      sql<{ authorization_id: string }>`
        with existing as (
          select id from authorizations where client_id = ${clientId} and app_id = ${appId} and revoked_at is null
        ), changed as (
          update authorizations set granted_by = ${accountId}, scope = ${scope}
          where id in (select id from existing) and (granted_by, scope) is distinct from (${accountId}, ${scope})
          returning id
        ), created as (
          insert into authorizations (id, client_id, app_id, granted_by, scope)
          select ${authId}, ${clientId}, ${appId}, ${accountId}, ${scope} where not exists (select 1 from existing)
          on conflict (client_id, app_id) where revoked_at is null do update set granted_by = excluded.granted_by, scope = excluded.scope
          returning id
        ), auth as (
          select id from existing union all select id from created
        )
        insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash)
        select ${tokenId}, ${tokenHash}, auth.id, ${clientId}, ${appId}, ${scope}, ${codeHash} from auth
        limit 1
        returning authorization_id`.compile(db),
  }),
);

/*
 * Group commit: the token writes of concurrent exchanges, as many as arrive in one turn of the event loop,
 * go to Postgres as ONE statement (so one commit and one WAL flush) instead of one each; every caller is
 * answered only once that statement has committed. It also takes the hot authorization row's foreign-key
 * share lock once per batch instead of once per token. Same rules as `issueTokenQuery`, per (partner, app):
 * the live authorization is joined, or created once; when consents in the batch differ, the last one
 * (in call order) sets who granted it and its scope.
 */
const issueTokensQuery = precompiled(
  (
    db: Db,
    authIds: string[],
    tokenIds: string[],
    clientIds: string[],
    appIds: string[],
    accountIds: string[],
    scopes: string[],
    tokenHashes: string[],
    codeHashes: (string | null)[],
  ) => ({
    compile: () =>
      sql<{ id: string; authorization_id: string }>`
        with input as (
          select * from unnest(${authIds}::text[], ${tokenIds}::text[], ${clientIds}::text[], ${appIds}::text[],
                               ${accountIds}::text[], ${scopes}::text[], ${tokenHashes}::text[], ${codeHashes}::text[])
            with ordinality as i(auth_id, token_id, client_id, app_id, account_id, scope, token_hash, code_hash, ord)
        ), latest as (
          select distinct on (client_id, app_id) * from input order by client_id, app_id, ord desc
        ), existing as (
          select a.id, a.client_id, a.app_id from authorizations a
          join latest l on a.client_id = l.client_id and a.app_id = l.app_id and a.revoked_at is null
        ), changed as (
          update authorizations a set granted_by = l.account_id, scope = l.scope from latest l
          where a.client_id = l.client_id and a.app_id = l.app_id and a.revoked_at is null
            and (a.granted_by, a.scope) is distinct from (l.account_id, l.scope)
          returning a.id
        ), created as (
          insert into authorizations (id, client_id, app_id, granted_by, scope)
          select l.auth_id, l.client_id, l.app_id, l.account_id, l.scope from latest l
          where not exists (select 1 from existing e where e.client_id = l.client_id and e.app_id = l.app_id)
          on conflict (client_id, app_id) where revoked_at is null do update set granted_by = excluded.granted_by, scope = excluded.scope
          returning id, client_id, app_id
        ), auth as (
          select id, client_id, app_id from existing union all select id, client_id, app_id from created
        )
        insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash)
        select i.token_id, i.token_hash, auth.id, i.client_id, i.app_id, i.scope, i.code_hash
        from input i join auth on auth.client_id = i.client_id and auth.app_id = i.app_id
        returning id, authorization_id`.compile(db),
  }),
);

interface PendingToken {
  input: IssueTokenInput;
  tokenId: string;
  resolve: (value: { authorizationId: string; tokenId: string }) => void;
  reject: (err: unknown) => void;
}

const pendingByDb = new WeakMap<Db, PendingToken[]>();

async function issueOne(db: Db, input: IssueTokenInput, tokenId: string): Promise<{ authorizationId: string; tokenId: string }> {
  const [row] = await issueTokenQuery(
    db,
    newId(),
    tokenId,
    input.clientId,
    input.appId,
    input.accountId,
    input.scope,
    input.tokenHash,
    input.codeHash,
  );
  if (!row) throw new Error('issueToken: no row returned');
  return { authorizationId: row.authorization_id, tokenId };
}

async function flush(db: Db, batch: PendingToken[]): Promise<void> {
  if (batch.length === 1) {
    const [only] = batch as [PendingToken];
    await issueOne(db, only.input, only.tokenId).then(only.resolve, only.reject);
    return;
  }
  let rows: { id: string; authorization_id: string }[];
  try {
    const inputs = batch.map((p) => p.input);
    rows = await issueTokensQuery(
      db,
      batch.map(() => newId()),
      batch.map((p) => p.tokenId),
      inputs.map((i) => i.clientId),
      inputs.map((i) => i.appId),
      inputs.map((i) => i.accountId),
      inputs.map((i) => i.scope),
      inputs.map((i) => i.tokenHash),
      inputs.map((i) => i.codeHash),
    );
  } catch {
    // One bad row (an app deleted meanwhile, a value Postgres refuses) must not fail its neighbours:
    // each is written alone, and answers with its own outcome.
    await Promise.all(batch.map((p) => issueOne(db, p.input, p.tokenId).then(p.resolve, p.reject)));
    return;
  }
  const byToken = new Map(rows.map((r) => [r.id, r.authorization_id]));
  for (const p of batch) {
    const authorizationId = byToken.get(p.tokenId);
    if (authorizationId) p.resolve({ authorizationId, tokenId: p.tokenId });
    else p.reject(new Error('issueToken: no row returned'));
  }
}

/**
 * Records the grant and its token (atomic: the authorization and the token are one statement), resolving
 * once committed. Concurrent calls in one event-loop turn share the statement and its commit.
 */
export function issueToken(db: Db, input: IssueTokenInput): Promise<{ authorizationId: string; tokenId: string }> {
  assertStorable([input.clientId, input.appId, input.accountId, input.scope, input.tokenHash, input.codeHash]);
  return new Promise((resolve, reject) => {
    let pending = pendingByDb.get(db);
    if (!pending) {
      const batch: PendingToken[] = [];
      pending = batch;
      pendingByDb.set(db, batch);
      setImmediate(() => {
        pendingByDb.delete(db);
        void flush(db, batch);
      });
    }
    pending.push({ input, tokenId: newId(), resolve, reject });
  });
}

export interface ActiveToken {
  tokenId: string;
  authorizationId: string;
  clientId: string;
  clientName: string;
  appId: string;
  appName: string;
  scope: string;
  accountId: string;
  createdAt: Date;
}

const activeTokenQuery = precompiled((db: Db, tokenHash: string) =>
  db
    .selectFrom('access_tokens as t')
    .innerJoin('authorizations as a', 'a.id', 't.authorization_id')
    .innerJoin('clients as c', 'c.client_id', 't.client_id')
    .innerJoin('apps as p', 'p.id', 't.app_id')
    .select([
      't.id as tokenId',
      't.authorization_id as authorizationId',
      't.client_id as clientId',
      'c.client_name as clientName',
      't.app_id as appId',
      'p.name as appName',
      't.scope as scope',
      'a.granted_by as accountId',
      't.created_at as createdAt',
    ])
    .where('t.token_hash', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .where('a.revoked_at', 'is', null)
    .where('c.status', '=', 'active'),
);

/** The token behind `tokenHash` if it, its authorization and its client are all live. */
export async function findActiveToken(db: Db, tokenHash: string): Promise<ActiveToken | undefined> {
  const [row] = await activeTokenQuery(db, tokenHash);
  return row;
}

export interface EndedAuthorization {
  authorizationId: string;
  clientId: string;
  appId: string;
}

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Ends live authorizations and every token under them, and queues a removal notification for each
 * partner with a remove_url, all in the caller's transaction: nothing is ended without its notice.
 */
async function endWithin(
  trx: Executor,
  match: { authorizationId: string } | { clientId: string; appId?: string },
  reason: RemovalReason,
  requestId: string | undefined,
): Promise<EndedAuthorization[]> {
  let q = trx.updateTable('authorizations').set({ revoked_at: sql`now()` }).where('revoked_at', 'is', null);
  if ('authorizationId' in match) q = q.where('id', '=', match.authorizationId);
  else {
    q = q.where('client_id', '=', match.clientId);
    if (match.appId !== undefined) q = q.where('app_id', '=', match.appId);
  }
  const ended = await q.returning(['id as authorizationId', 'client_id as clientId', 'app_id as appId']).execute();
  if (ended.length === 0) return [];
  await trx
    .updateTable('access_tokens')
    .set({ revoked_at: sql`now()` })
    .where(
      'authorization_id',
      'in',
      ended.map((e) => e.authorizationId),
    )
    .where('revoked_at', 'is', null)
    .execute();
  const clients = await trx
    .selectFrom('clients')
    .select(['client_id', 'remove_url', 'webhook_secret_version'])
    .where('client_id', 'in', [...new Set(ended.map((e) => e.clientId))])
    .execute();
  const removedAt = new Date().toISOString();
  const deliveries = ended.flatMap((e) => {
    const client = clients.find((c) => c.client_id === e.clientId);
    if (!client?.remove_url) return [];
    const id = newId();
    const payload: RemovalNotification = {
      type: 'authorization.removed',
      id,
      client_id: e.clientId,
      app_id: e.appId,
      reason,
      removed_at: removedAt,
    };
    return [
      {
        id,
        client_id: e.clientId,
        app_id: e.appId,
        authorization_id: e.authorizationId,
        reason,
        url: client.remove_url,
        secret_version: client.webhook_secret_version,
        payload: JSON.stringify(payload),
        request_id: requestId ?? null,
      },
    ];
  });
  if (deliveries.length > 0) await trx.insertInto('webhook_deliveries').values(deliveries).execute();
  return ended;
}

/** Ends a partner's access to one app (or, without appId, to every app), from every earlier consent. */
export function endAuthorizations(
  db: Db,
  match: { authorizationId: string } | { clientId: string; appId?: string },
  reason: RemovalReason,
  requestId?: string,
): Promise<EndedAuthorization[]> {
  return db.transaction().execute((trx) => endWithin(trx, match, reason, requestId));
}

/**
 * RFC 7009: revokes the token if it is `clientId`'s and live. When it was the last live token of
 * its authorization, the authorization ends too (and the partner is notified).
 */
export async function revokeClientToken(db: Db, tokenHash: string, clientId: string, requestId?: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const token = await trx
      .updateTable('access_tokens')
      .set({ revoked_at: sql`now()` })
      .where('token_hash', '=', tokenHash)
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .returning(['authorization_id'])
      .executeTakeFirst();
    if (!token) return false;
    // Lock the authorization so a token issued concurrently under it is counted.
    await trx.selectFrom('authorizations').select('id').where('id', '=', token.authorization_id).forUpdate().execute();
    const others = await trx
      .selectFrom('access_tokens')
      .select('id')
      .where('authorization_id', '=', token.authorization_id)
      .where('revoked_at', 'is', null)
      .limit(1)
      .execute();
    if (others.length === 0) await endWithin(trx, { authorizationId: token.authorization_id }, 'token_revoked', requestId);
    return true;
  });
}

/** Revokes every token issued from a code (RFC 6749 §4.1.2: a code used twice). */
export async function revokeTokensFromCode(db: Db, codeHash: string): Promise<number> {
  const rows = await db
    .updateTable('access_tokens')
    .set({ revoked_at: sql`now()` })
    .where('code_hash', '=', codeHash)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  return rows.length;
}

export async function revokeTokenById(db: Db, tokenId: string): Promise<void> {
  await db.updateTable('access_tokens').set({ revoked_at: sql`now()` }).where('id', '=', tokenId).where('revoked_at', 'is', null).execute();
}
