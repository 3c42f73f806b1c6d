// Authorizations (a partner's access to an app) and the access tokens issued under them.
import { type RemovalReason, removalNotification } from '@partner-oauth/contracts';
import { Coalescer } from '@partner-oauth/service-kit';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Db } from '../db.js';
import { precompiled } from '../precompiled.js';
import type { Database } from '../schema.js';
import { newId } from './ids.js';
import { queueDeliveries } from './outbox.js';

export interface IssueTokenInput {
  clientId: string;
  appId: string;
  accountId: string;
  scope: string;
  tokenHash: string;
  codeHash: string | null;
  /** For a client with expiring tokens (0006): when the access token expires, and its first refresh token. */
  expiry?: IssueExpiry | null;
}

/** What a client with expiring tokens gets with its access token at the code exchange (RFC 6749 §1.5). */
export interface IssueExpiry {
  accessExpiresAt: Date;
  refreshHash: string;
  /** The refresh token's idle deadline, never past familyExpiresAt. */
  refreshExpiresAt: Date;
  /** The absolute deadline every rotation of this refresh token carries forward. */
  familyExpiresAt: Date;
}

/** The issueTokenQuery parameters of an issue without expiry, or with the given one. */
export function expiryParams(expiry: IssueExpiry | null | undefined) {
  return {
    expiresAt: expiry?.accessExpiresAt ?? null,
    refreshId: newId(),
    refreshHash: expiry?.refreshHash ?? null,
    refreshExpiresAt: expiry?.refreshExpiresAt ?? null,
    familyExpiresAt: expiry?.familyExpiresAt ?? null,
  };
}

/*
 * One statement: join the live authorization of this partner on this app (updating who granted it and
 * its scope only when they changed, so the common case takes only a share lock), or create it; then insert
 * the token under it. (A data-modifying CTE runs whether or not the main query reads it.) Two first consents racing meet in ON CONFLICT, which returns the winner's row.
 * FOR SHARE, because the foreign key's KEY SHARE lock does not conflict with ending the authorization (an
 * update of a non-key column): without it a token could join an authorization being ended and be inserted
 * after the end revoked its tokens, staying live under an ended authorization. With it the two take turns;
 * if the end commits first, the row no longer matches `revoked_at is null` and a new authorization is made.
 * Behind one guard (no row written when it fails): the client is active and, for a redeemed code
 * (RFC 6749 §4.1.2, §10.5; see code-grants.ts), still registers the code's redirect URI, is in the code's
 * epoch, and no authorization of the pair ended since the code was issued. A null guard value is not checked.
 * The guard costs a primary-key read of the client and an index count of the pair's ended grants.
 * With expiry (0006) the access token carries expires_at, and a refresh token is inserted under the same
 * authorization in the same statement; without (refreshHash null) nothing more is written.
 * The code exchange writes through issue_tokens_from_codes (migration 0008: many exchanges per call) or, for a call
 * of one, issue_token_from_code (0012), which keep these rules row by row; test/issue-batch.test.ts holds them to
 * what this statement does one call at a time.
 */
export const issueTokenQuery = precompiled(
  (
    db: Db,
    {
      authId,
      tokenId,
      clientId,
      appId,
      accountId,
      scope,
      tokenHash,
      codeHash,
      redirectUri,
      epoch,
      endedGrants,
      expiresAt,
      refreshId,
      refreshHash,
      refreshExpiresAt,
      familyExpiresAt,
    }: {
      authId: string;
      tokenId: string;
      clientId: string;
      appId: string;
      accountId: string;
      scope: string;
      tokenHash: string;
      codeHash: string | null;
      redirectUri: string | null;
      epoch: string | null;
      endedGrants: number | null;
      expiresAt: Date | null;
      refreshId: string;
      refreshHash: string | null;
      refreshExpiresAt: Date | null;
      familyExpiresAt: Date | null;
    },
  ) => ({
    compile: () =>
      sql<{ authorization_id: string }>`
        with guard as (
          select 1 from clients c
          where c.client_id = ${clientId} and c.status = 'active'
            and (${redirectUri}::text is null or ${redirectUri}::text = any(c.redirect_uris))
            and (${epoch}::uuid is null or c.code_epoch = ${epoch}::uuid)
            and (${endedGrants}::int is null or ${endedGrants}::int = coalesce((
              select g.ended from grant_ends g where g.client_id = ${clientId} and g.app_id = ${appId}), 0))
        ), existing as (
          select id from authorizations
          where client_id = ${clientId} and app_id = ${appId} and revoked_at is null and exists (select 1 from guard)
          for share
        ), changed as (
          update authorizations set granted_by = ${accountId}, scope = ${scope}
          where id in (select id from existing) and (granted_by, scope) is distinct from (${accountId}, ${scope})
          returning id
        ), created as (
          insert into authorizations (id, client_id, app_id, granted_by, scope)
          select ${authId}, ${clientId}, ${appId}, ${accountId}, ${scope}
          where not exists (select 1 from existing) and exists (select 1 from guard)
          on conflict (client_id, app_id) where revoked_at is null do update set granted_by = excluded.granted_by, scope = excluded.scope
          returning id
        ), auth as (
          select id from existing union all select id from created
        ), issued as (
          insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at)
          select ${tokenId}, ${tokenHash}, auth.id, ${clientId}, ${appId}, ${scope}, ${codeHash}, ${expiresAt}::timestamptz from auth
          limit 1
          returning authorization_id
        ), refreshed as (
          insert into refresh_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at, family_expires_at)
          select ${refreshId}, ${refreshHash}::text, issued.authorization_id, ${clientId}, ${appId}, ${scope}, ${codeHash},
            ${refreshExpiresAt}::timestamptz, ${familyExpiresAt}::timestamptz
          from issued where ${refreshHash}::text is not null
        )
        select authorization_id from issued`.compile(db),
  }),
);

/**
 * Records the grant and its token in one statement (so one round trip, and atomic): the live
 * authorization of this partner on this app is created, or joined by the new consent.
 */
export async function issueToken(db: Db, input: IssueTokenInput): Promise<{ authorizationId: string; tokenId: string }> {
  const tokenId = newId();
  const [row] = await issueTokenQuery(db, {
    authId: newId(),
    tokenId,
    clientId: input.clientId,
    appId: input.appId,
    accountId: input.accountId,
    scope: input.scope,
    tokenHash: input.tokenHash,
    codeHash: input.codeHash,
    redirectUri: null,
    epoch: null,
    endedGrants: null,
    ...expiryParams(input.expiry),
  });
  if (!row) throw new Error('issueToken: no row returned (is the client active?)');
  return { authorizationId: row.authorization_id, tokenId };
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
  /** Null: live until revoked (the spec's token). */
  expiresAt: Date | null;
}

/** What introspection needs of a live token: ActiveToken without the client's and the app's names. */
export type ActiveTokenState = Omit<ActiveToken, 'clientName' | 'appName'>;

/**
 * The live tokens behind `tokenHashes`: each token, its authorization and its client live at `now`. Each hash is looked
 * up by the token_hash key in a subquery of its own, which `limit 1` (the key is unique) keeps the planner from
 * merging into the joins: so no statistics can turn the plan around. `t.token_hash = any(…)` once let stale statistics
 * pick a scan of the client's tokens (5 ms, not 0.3), and the plain join did too, once the statistics had been taken
 * before a pair's tokens grew: it read all of the pair's tokens for every call (precompiled.test.ts).
 */
const liveTokens = (db: Db, tokenHashes: string[], now: Date) =>
  db
    .selectFrom(sql<{ hash: string }>`(select unnest(${tokenHashes}::text[]) as hash)`.as('h'))
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('access_tokens')
          .select(['token_hash', 'id', 'authorization_id', 'client_id', 'app_id', 'scope', 'created_at', 'expires_at'])
          .whereRef('token_hash', '=', 'h.hash')
          .where('revoked_at', 'is', null)
          .where((w) => w.or([w('expires_at', 'is', null), w('expires_at', '>', now)]))
          .limit(sql.lit(1))
          .as('t'),
      (join) => join.onTrue(),
    )
    .innerJoin('authorizations as a', 'a.id', 't.authorization_id')
    .innerJoin('clients as c', 'c.client_id', 't.client_id')
    .select([
      't.token_hash as tokenHash',
      't.id as tokenId',
      't.authorization_id as authorizationId',
      't.client_id as clientId',
      't.app_id as appId',
      't.scope as scope',
      'a.granted_by as accountId',
      't.created_at as createdAt',
      't.expires_at as expiresAt',
    ])
    .where('a.revoked_at', 'is', null)
    .where('c.status', '=', 'active');

/** The live token behind each of `tokenHashes` (any number, in one query), with its client's and app's names. */
export const activeTokensQuery = precompiled((db: Db, { tokenHashes, now }: { tokenHashes: string[]; now: Date }) =>
  liveTokens(db, tokenHashes, now).innerJoin('apps as p', 'p.id', 't.app_id').select(['c.client_name as clientName', 'p.name as appName']),
);

/**
 * activeTokensQuery without the names, for introspection: one index lookup fewer per token (the app's row). The app
 * needs no check of its own: deleting an app deletes its authorizations, and their tokens with them (foreign keys,
 * on delete cascade). Measured at 1 million tokens: 0.80 → 0.68 ms for 16 lookups (docs/performance.md, item 39).
 */
export const activeTokenStatesQuery = precompiled((db: Db, { tokenHashes, now }: { tokenHashes: string[]; now: Date }) =>
  liveTokens(db, tokenHashes, now),
);

/** The live tokens behind `tokenHashes`, by hash (absent: unknown, revoked, expired at `now`, or its grant or client ended). */
export async function findActiveTokens(db: Db, tokenHashes: string[], now: Date = new Date()): Promise<Map<string, ActiveToken>> {
  const rows = await activeTokensQuery(db, { tokenHashes, now });
  return new Map(rows.map(({ tokenHash, ...token }) => [tokenHash, token]));
}

/** findActiveTokens without the names (activeTokenStatesQuery). */
export async function findActiveTokenStates(db: Db, tokenHashes: string[], now: Date = new Date()): Promise<Map<string, ActiveTokenState>> {
  const rows = await activeTokenStatesQuery(db, { tokenHashes, now });
  return new Map(rows.map(({ tokenHash, ...token }) => [tokenHash, token]));
}

/** The token behind `tokenHash` if it, its authorization and its client are all live, and it has not expired at `now`. */
export async function findActiveToken(db: Db, tokenHash: string, now: Date = new Date()): Promise<ActiveToken | undefined> {
  return (await findActiveTokens(db, [tokenHash], now)).get(tokenHash);
}

/**
 * A token lookup for a service answering many callers at once (introspection, tokenInfo): lookups made while one
 * is in flight go together as one query when it returns (service-kit's Coalescer), so a busy resource server costs
 * Postgres one round trip per batch, not per call. Every lookup is sent after its call was made, so a revocation
 * committed before the call is seen. A batch is read at the latest `now` of its calls: a token expiring in
 * between is refused, never the other way round.
 */
class BatchedTokenReader<T> {
  private readonly batches: Coalescer<{ tokenHash: string; now: Date }, T | undefined>;

  constructor(find: (tokenHashes: string[], now: Date) => Promise<Map<string, T>>) {
    this.batches = new Coalescer(
      async (calls) => {
        const now = new Date(Math.max(...calls.map((c) => c.now.getTime())));
        const found = await find([...new Set(calls.map((c) => c.tokenHash))], now);
        return calls.map((c) => found.get(c.tokenHash));
      },
      { maxBatch: 256 },
    );
  }

  find(tokenHash: string, now: Date): Promise<T | undefined> {
    return this.batches.submit({ tokenHash, now });
  }
}

/** findActiveToken, batched (BatchedTokenReader): the token with its client's and app's names (tokenInfo, bearer routes). */
export class ActiveTokenReader extends BatchedTokenReader<ActiveToken> {
  constructor(db: Db) {
    super((tokenHashes, now) => findActiveTokens(db, tokenHashes, now));
  }
}

/** The same lookups without the names (findActiveTokenStates), batched: introspection. */
export class TokenStateReader extends BatchedTokenReader<ActiveTokenState> {
  constructor(db: Db) {
    super((tokenHashes, now) => findActiveTokenStates(db, tokenHashes, now));
  }
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
export async function endWithin(
  trx: Executor,
  match: { authorizationId: string } | { clientId: string; appId?: string },
  reason: RemovalReason,
  requestId: string | undefined,
): Promise<EndedAuthorization[]> {
  let ids: string[];
  if ('authorizationId' in match) ids = [match.authorizationId];
  else {
    // Locked first, in (client, app) order: the order a batch of code exchanges takes them (migration 0008). Ended in
    // whatever order the update's plan meets them, a batch holding one and waiting on another could deadlock with it.
    let locked = trx
      .selectFrom('authorizations')
      .select('id')
      .where('revoked_at', 'is', null)
      .where('client_id', '=', match.clientId)
      .orderBy('client_id')
      .orderBy('app_id')
      .forNoKeyUpdate();
    if (match.appId !== undefined) locked = locked.where('app_id', '=', match.appId);
    ids = (await locked.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
  }
  const ended = await trx
    .updateTable('authorizations')
    .set({ revoked_at: sql`now()` })
    .where('revoked_at', 'is', null)
    .where('id', 'in', ids)
    .returning(['id as authorizationId', 'client_id as clientId', 'app_id as appId'])
    .execute();
  if (ended.length === 0) return [];
  const endedIds = ended.map((e) => e.authorizationId);
  // Every token under them, access and refresh alike.
  for (const table of ['access_tokens', 'refresh_tokens'] as const) {
    await trx
      .updateTable(table)
      .set({ revoked_at: sql`now()` })
      .where('authorization_id', 'in', endedIds)
      .where('revoked_at', 'is', null)
      .execute();
  }
  const clients = await trx
    .selectFrom('clients')
    .select(['client_id', 'remove_url', 'webhook_secret_version'])
    .where('client_id', 'in', [...new Set(ended.map((e) => e.clientId))])
    .execute();
  const removedAt = new Date();
  const deliveries = ended.flatMap((e) => {
    const client = clients.find((c) => c.client_id === e.clientId);
    if (!client?.remove_url) return [];
    const id = newId();
    const payload = removalNotification({ id, clientId: e.clientId, appId: e.appId, reason, removedAt });
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
  await queueDeliveries(trx, deliveries);
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
    const found = await trx
      .selectFrom('access_tokens')
      .select('authorization_id')
      .where('token_hash', '=', tokenHash)
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!found) return false;
    // The authorization first, then its token: the order endWithin takes them, so a revocation racing an admin
    // ending the same authorization waits instead of deadlocking. The lock also makes a token issued
    // concurrently under it count below.
    await trx.selectFrom('authorizations').select('id').where('id', '=', found.authorization_id).forUpdate().execute();
    const token = await trx
      .updateTable('access_tokens')
      .set({ revoked_at: sql`now()` })
      .where('token_hash', '=', tokenHash)
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .returning(['authorization_id'])
      .executeTakeFirst();
    // Ended meanwhile with its authorization.
    if (!token) return false;
    // A live refresh token (expiring tokens, 0006) keeps the authorization: the partner can still get access from it.
    const others = await trx
      .selectFrom('access_tokens')
      .select('id')
      .where('authorization_id', '=', token.authorization_id)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .unionAll(
        trx
          .selectFrom('refresh_tokens')
          .select('id')
          .where('authorization_id', '=', token.authorization_id)
          .where('revoked_at', 'is', null)
          .where('used_at', 'is', null),
      )
      .limit(1)
      .execute();
    if (others.length === 0) await endWithin(trx, { authorizationId: token.authorization_id }, 'token_revoked', requestId);
    return true;
  });
}

/** How long a replay's marker is kept by default: the longest a code lives (ephemeral-store's MAX_CODE_TTL_MS). */
export const REPLAY_MARKER_LIFETIME_MS = 10 * 60_000;

/**
 * Revokes every token issued from a code (RFC 6749 §4.1.2: a code used twice): its access tokens, and the refresh
 * tokens of the families it started (every rotation carries the code's hash). Returns the access tokens revoked.
 * A redemption of the code still being written is waited for, and one not yet written will refuse the code: the mark
 * left here (for `markerLifetimeMs`, at least the code's life) is what the code exchange's write looks for (0011).
 */
export async function revokeTokensFromCode(db: Db, codeHash: string, markerLifetimeMs = REPLAY_MARKER_LIFETIME_MS): Promise<number> {
  const { rows } = await sql<{ revoked: number }>`
    select revoke_tokens_from_code(${codeHash}, make_interval(secs => ${markerLifetimeMs / 1000})) as revoked`.execute(db);
  return Number(rows[0]?.revoked ?? 0);
}

/** Revokes one access token, and the refresh token issued beside it from the same code (it was never handed out either). */
export async function revokeTokenById(db: Db, tokenId: string): Promise<void> {
  await sql`
    with revoked as (
      update access_tokens set revoked_at = now() where id = ${tokenId} and revoked_at is null returning code_hash, authorization_id
    )
    update refresh_tokens r set revoked_at = now()
    from revoked
    where r.code_hash = revoked.code_hash and r.authorization_id = revoked.authorization_id and r.revoked_at is null`.execute(db);
}
