// Partner clients and their hashed secrets.
import type { Client } from '@partner-oauth/contracts';
import { sql } from 'kysely';
import type { Db } from '../db.js';
import type { ClientRow } from '../schema.js';
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
}

export type ClientPatch = Partial<Omit<ClientInput, 'client_id'>> & { status?: 'active' | 'disabled' };

export function toClientView(row: ClientRow): Client {
  return {
    client_id: row.client_id,
    client_name: row.client_name,
    description: row.description,
    client_uri: row.client_uri,
    logo_uri: row.logo_uri,
    redirect_uris: row.redirect_uris,
    status: row.status,
    scope: row.allowed_scopes.join(' '),
    default_scope: row.default_scope,
    require_pkce: row.require_pkce,
    remove_url: row.remove_url,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** Creates the client and its first secret (already hashed) in one transaction. */
export async function createClient(db: Db, input: ClientInput, secretHash: string): Promise<ClientRow> {
  return db.transaction().execute(async (trx) => {
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
        status: 'active',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.insertInto('client_secrets').values({ id: newId(), client_id: input.client_id, secret_hash: secretHash }).execute();
    return row;
  });
}

export function findClient(db: Db, clientId: string): Promise<ClientRow | undefined> {
  return db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** The client, its row locked until the transaction `trx` ends: for read-check-write updates. */
export function findClientForUpdate(trx: Db, clientId: string): Promise<ClientRow | undefined> {
  return trx.selectFrom('clients').selectAll().where('client_id', '=', clientId).forUpdate().executeTakeFirst();
}

export async function updateClient(db: Db, clientId: string, patch: ClientPatch): Promise<ClientRow | undefined> {
  return db
    .updateTable('clients')
    .set({ ...patch, updated_at: sql`now()` })
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Keyset pagination on (created_at, client_id), resuming after the client `afterId`;
 * compared in SQL so the timestamp keeps its microseconds.
 */
export async function listClients(db: Db, opts: { limit: number; afterId?: string | undefined }): Promise<ClientRow[]> {
  let q = db.selectFrom('clients').selectAll().orderBy('created_at').orderBy('client_id').limit(opts.limit);
  if (opts.afterId !== undefined) {
    const afterId = opts.afterId;
    q = q.where(sql<boolean>`(created_at, client_id) > (select c.created_at, c.client_id from clients c where c.client_id = ${afterId})`);
  }
  return q.execute();
}

/** Hashes of the secrets that authenticate the client at `now`. */
export function liveSecretHashes(db: Db, clientId: string, now: Date): Promise<{ id: string; secret_hash: string }[]> {
  return db
    .selectFrom('client_secrets')
    .select(['id', 'secret_hash'])
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
}

export async function markSecretUsed(db: Db, secretId: string, now: Date): Promise<void> {
  await db.updateTable('client_secrets').set({ last_used_at: now }).where('id', '=', secretId).execute();
}
