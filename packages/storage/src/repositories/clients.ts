// Partner clients and their hashed secrets.
import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Db } from '../db.js';
import { precompiled } from '../precompiled.js';
import type { ClientRow, ClientSecretTable } from '../schema.js';
import { newId } from './ids.js';

export interface ClientInput {
  client_id: string;
  client_name: string;
  description?: string | undefined;
  client_uri?: string | null | undefined;
  logo_uri?: string | null | undefined;
  redirect_uris: string[];
  allowed_scopes?: string[] | undefined;
  default_scope?: string | undefined;
  require_pkce?: boolean | undefined;
  remove_url?: string | null | undefined;
  expiring_tokens?: boolean | undefined;
  access_token_lifetime?: number | undefined;
  refresh_token_idle_lifetime?: number | undefined;
  refresh_token_absolute_lifetime?: number | undefined;
  policy_uri?: string | null | undefined;
  tos_uri?: string | null | undefined;
}

export type ClientPatch = Partial<Omit<ClientInput, 'client_id'>> & { status?: 'active' | 'disabled' };

/** Runs `fn` in a transaction, or in the caller's when `db` already is one (Kysely has no nested transactions). */
function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** Creates the client and its first secret (already hashed) in one transaction, the caller's if given one. */
export async function createClient(db: Db, input: ClientInput, secretHash: string): Promise<ClientRow> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('clients')
      .values({
        client_id: input.client_id,
        client_name: input.client_name,
        description: input.description ?? '',
        client_uri: input.client_uri ?? null,
        logo_uri: input.logo_uri ?? null,
        redirect_uris: input.redirect_uris,
        allowed_scopes: input.allowed_scopes ?? [],
        default_scope: input.default_scope ?? '',
        require_pkce: input.require_pkce ?? false,
        remove_url: input.remove_url ?? null,
        policy_uri: input.policy_uri ?? null,
        tos_uri: input.tos_uri ?? null,
        expiring_tokens: input.expiring_tokens,
        access_token_lifetime: input.access_token_lifetime,
        refresh_token_idle_lifetime: input.refresh_token_idle_lifetime,
        refresh_token_absolute_lifetime: input.refresh_token_absolute_lifetime,
        status: 'active',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.insertInto('client_secrets').values({ id: newId(), client_id: input.client_id, secret_hash: secretHash }).execute();
    return row;
  });
}

export const clientQuery = precompiled((db: Db, { clientId }: { clientId: string }) =>
  db.selectFrom('clients').selectAll().where('client_id', '=', clientId),
);

/** The client's row; precompiled, as every consent step reads it (authorize, decision). */
export async function findClient(db: Db, clientId: string): Promise<ClientRow | undefined> {
  const [row] = await clientQuery(db, { clientId });
  return row;
}

/** The client, its row locked until the transaction `trx` ends: for read-check-write updates. */
export function findClientForUpdate(trx: Db, clientId: string): Promise<ClientRow | undefined> {
  return trx.selectFrom('clients').selectAll().where('client_id', '=', clientId).forUpdate().executeTakeFirst();
}

export async function updateClient(db: Db, clientId: string, patch: ClientPatch): Promise<ClientRow | undefined> {
  return db
    .updateTable('clients')
    .set({ ...patch, updated_at: sql`now()`, revision: sql`revision + 1` })
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

export interface ClientListFilter {
  limit: number;
  afterId?: string | undefined;
  status?: 'active' | 'disabled' | undefined;
  /** Case-insensitive substring of client_name. */
  name?: string | undefined;
}

/**
 * Keyset pagination on (created_at, client_id), resuming after the client `afterId`;
 * compared in SQL so the timestamp keeps its microseconds.
 */
export async function listClients(db: Db, opts: ClientListFilter): Promise<ClientRow[]> {
  let q = db.selectFrom('clients').selectAll().orderBy('created_at').orderBy('client_id').limit(opts.limit);
  if (opts.afterId !== undefined) {
    const afterId = opts.afterId;
    q = q.where(sql<boolean>`(created_at, client_id) > (select c.created_at, c.client_id from clients c where c.client_id = ${afterId})`);
  }
  if (opts.status !== undefined) q = q.where('status', '=', opts.status);
  if (opts.name !== undefined) {
    // LIKE's wildcards in the search text are matched literally.
    const pattern = `%${opts.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where(sql<boolean>`lower(client_name) like ${pattern}`);
  }
  return q.execute();
}

/** Deletes the client row; its secrets, authorizations and tokens go with it (ON DELETE CASCADE). */
export async function deleteClient(db: Db, clientId: string): Promise<boolean> {
  const rows = await db.deleteFrom('clients').where('client_id', '=', clientId).returning('client_id').execute();
  return rows.length > 0;
}

/** Hashes of the secrets that authenticate the client at `now`. */
export function liveSecretHashes(
  db: Db,
  clientId: string,
  now: Date,
): Promise<{ id: string; secret_hash: string; last_used_at: Date | null }[]> {
  return db
    .selectFrom('client_secrets')
    .select(['id', 'secret_hash', 'last_used_at'])
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
}

/** A client's expiring-token setting, in seconds (RFC 6749 §1.5, §6): null for the spec's tokens, live until revoked. */
export interface TokenLifetimes {
  accessSeconds: number;
  refreshIdleSeconds: number;
  refreshAbsoluteSeconds: number;
}

export interface ClientCredentialsRecord {
  clientId: string;
  status: 'active' | 'disabled';
  secrets: { id: string; secret_hash: string; last_used_at: Date | null }[];
  /** Read with the credentials (no second query): what the token endpoint issues to this client. */
  lifetimes: TokenLifetimes | null;
}

/** The setting as a stored client row holds it. */
export function tokenLifetimesOf(row: {
  expiring_tokens: boolean;
  access_token_lifetime: number;
  refresh_token_idle_lifetime: number;
  refresh_token_absolute_lifetime: number;
}): TokenLifetimes | null {
  if (!row.expiring_tokens) return null;
  return {
    accessSeconds: row.access_token_lifetime,
    refreshIdleSeconds: row.refresh_token_idle_lifetime,
    refreshAbsoluteSeconds: row.refresh_token_absolute_lifetime,
  };
}

export const clientCredentialsQuery = precompiled((db: Db, { clientId, now }: { clientId: string; now: Date }) =>
  db
    .selectFrom('clients as c')
    .leftJoin('client_secrets as s', (join) =>
      join
        .onRef('s.client_id', '=', 'c.client_id')
        .on('s.revoked_at', 'is', null)
        .on((eb) => eb.or([eb('s.expires_at', 'is', null), eb('s.expires_at', '>', now)])),
    )
    .select([
      'c.client_id',
      'c.status',
      'c.expiring_tokens',
      'c.access_token_lifetime',
      'c.refresh_token_idle_lifetime',
      'c.refresh_token_absolute_lifetime',
      's.id',
      's.secret_hash',
      's.last_used_at',
    ])
    .where('c.client_id', '=', clientId),
);

/** The client and its secrets live at `now`, in one round trip: what client authentication needs. */
export async function findClientCredentials(db: Db, clientId: string, now: Date): Promise<ClientCredentialsRecord | undefined> {
  const rows = await clientCredentialsQuery(db, { clientId, now });
  const first = rows[0];
  if (!first) return undefined;
  const secrets = rows.flatMap((r) =>
    r.id !== null && r.secret_hash !== null ? [{ id: r.id, secret_hash: r.secret_hash, last_used_at: r.last_used_at }] : [],
  );
  return { clientId: first.client_id, status: first.status, secrets, lifetimes: tokenLifetimesOf(first) };
}

/** How stale a recorded last use may get: the token endpoint must not write a row per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** True when a use at `now` should be recorded over `lastUsedAt`. */
export const lastUseIsStale = (lastUsedAt: Date | string | null, now: Date): boolean =>
  lastUsedAt === null || now.getTime() - new Date(lastUsedAt).getTime() >= LAST_USED_RESOLUTION_MS;

/** Records a use, at most once a minute per secret (the guard also holds against concurrent requests). */
export async function markSecretUsed(db: Db, secretId: string, now: Date): Promise<void> {
  await db
    .updateTable('client_secrets')
    .set({ last_used_at: now })
    .where('id', '=', secretId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', new Date(now.getTime() - LAST_USED_RESOLUTION_MS))]))
    .execute();
}

export type ClientSecretRow = Selectable<ClientSecretTable>;

/** Every secret of the client, oldest first, revoked and expired ones included. */
export function listClientSecrets(db: Db, clientId: string): Promise<ClientSecretRow[]> {
  return db.selectFrom('client_secrets').selectAll().where('client_id', '=', clientId).orderBy('created_at').orderBy('id').execute();
}

/**
 * Adds a secret and makes every other live secret of the client expire at `oldExpiresAt` (or keep
 * an earlier expiry it already had): the rotation overlap. Call inside the client's locked transaction.
 */
export async function rotateClientSecret(
  trx: Db,
  clientId: string,
  secretHash: string,
  oldExpiresAt: Date,
): Promise<{ created: ClientSecretRow; expired: ClientSecretRow[] }> {
  const expired = await trx
    .updateTable('client_secrets')
    .set({ expires_at: oldExpiresAt })
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', oldExpiresAt)]))
    .returningAll()
    .execute();
  const created = await trx
    .insertInto('client_secrets')
    .values({ id: newId(), client_id: clientId, secret_hash: secretHash })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { created, expired };
}

/** Revokes one secret of the client; undefined when there is no such secret. */
export function revokeClientSecret(db: Db, clientId: string, secretId: string): Promise<ClientSecretRow | undefined> {
  return db
    .updateTable('client_secrets')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('client_id', '=', clientId)
    .where('id', '=', secretId)
    .returningAll()
    .executeTakeFirst();
}

/** Moves the client to the next webhook secret version; the previous one keeps signing until `previousExpiresAt`. */
export function rotateWebhookSecret(trx: Db, clientId: string, previousExpiresAt: Date): Promise<ClientRow | undefined> {
  return trx
    .updateTable('clients')
    .set({ webhook_secret_version: sql`webhook_secret_version + 1`, webhook_secret_previous_expires_at: previousExpiresAt })
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

/**
 * The webhook secret versions a notification for the client is signed with at `now`: the current one,
 * and the previous one while its overlap lasts. Undefined for a client that no longer exists.
 */
export async function webhookSecretVersions(
  db: Db,
  clientId: string,
  now: Date,
): Promise<{ secret_version: number; previous_secret_version: number | null } | undefined> {
  const row = await db
    .selectFrom('clients')
    .select(['webhook_secret_version', 'webhook_secret_previous_expires_at'])
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!row) return undefined;
  const expires = row.webhook_secret_previous_expires_at;
  const overlapping = expires !== null && new Date(expires).getTime() > now.getTime() && row.webhook_secret_version > 1;
  return { secret_version: row.webhook_secret_version, previous_secret_version: overlapping ? row.webhook_secret_version - 1 : null };
}
