// Credentials of the platform's own APIs (resource servers) for token introspection (RFC 7662 §2.1): hashed, rotated with overlap, revocable.
import { sql } from 'kysely';
import type { Db } from '../db.js';
import type { ResourceServerRow } from '../schema.js';

export async function createResourceServer(db: Db, input: { id: string; name: string; secretHash: string }): Promise<ResourceServerRow> {
  return db
    .insertInto('resource_servers')
    .values({ id: input.id, name: input.name, secret_hash: input.secretHash })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The hashes that authenticate `id` now: its secret, and the previous one while a rotation's overlap lasts. */
export async function findLiveResourceServer(
  db: Db,
  id: string,
): Promise<{ id: string; secret_hash: string; hashes: string[] } | undefined> {
  const row = await db
    .selectFrom('resource_servers')
    .select(['id', 'secret_hash', sql<string | null>`case when previous_expires_at > now() then previous_secret_hash end`.as('previous')])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return { id: row.id, secret_hash: row.secret_hash, hashes: row.previous ? [row.secret_hash, row.previous] : [row.secret_hash] };
}

export function listResourceServers(db: Db): Promise<ResourceServerRow[]> {
  return db.selectFrom('resource_servers').selectAll().orderBy('created_at').orderBy('id').execute();
}

export function findResourceServer(db: Db, id: string): Promise<ResourceServerRow | undefined> {
  return db.selectFrom('resource_servers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A new secret for a live resource server; the current one keeps working until `previousExpiresAt`. */
export function rotateResourceServerSecret(
  db: Db,
  id: string,
  secretHash: string,
  previousExpiresAt: Date,
): Promise<ResourceServerRow | undefined> {
  return db
    .updateTable('resource_servers')
    .set((eb) => ({ previous_secret_hash: eb.ref('secret_hash'), previous_expires_at: previousExpiresAt, secret_hash: secretHash }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Ends every secret of the resource server now. */
export function revokeResourceServer(db: Db, id: string): Promise<ResourceServerRow | undefined> {
  return db
    .updateTable('resource_servers')
    .set({ revoked_at: sql`now()` })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}
