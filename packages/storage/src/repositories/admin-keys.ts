// Admin API keys: named, stored as the SHA-256 of a high-entropy value, revocable, with last use recorded.
import { sql } from 'kysely';
import type { Db } from '../db.js';
import type { AdminKeyRow } from '../schema.js';
import { LAST_USED_RESOLUTION_MS } from './clients.js';
import { newId } from './ids.js';

export async function createAdminKey(
  db: Db,
  input: { name: string; keyHash: string; id?: string; access?: 'full' | 'read' },
): Promise<AdminKeyRow> {
  return db
    .insertInto('admin_keys')
    .values({ id: input.id ?? newId(), name: input.name, key_hash: input.keyHash, access: input.access ?? 'full' })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The unrevoked key whose hash is `keyHash`. */
export function findLiveAdminKey(db: Db, keyHash: string): Promise<AdminKeyRow | undefined> {
  return db.selectFrom('admin_keys').selectAll().where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
}

export function listAdminKeys(db: Db): Promise<AdminKeyRow[]> {
  return db.selectFrom('admin_keys').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Revokes the live key with this id (the API's form: names are not unique); returns it when there was one. */
export function revokeAdminKeyById(db: Db, id: string): Promise<AdminKeyRow | undefined> {
  return db
    .updateTable('admin_keys')
    .set({ revoked_at: sql`now()` })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Revokes the key named by id or name; returns what it revoked (nothing when no live key matched). */
export function revokeAdminKey(db: Db, idOrName: string): Promise<AdminKeyRow[]> {
  return db
    .updateTable('admin_keys')
    .set({ revoked_at: sql`now()` })
    .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
    .where('revoked_at', 'is', null)
    .returningAll()
    .execute();
}

/** Records a use, at most once a minute per key: one row update per minute, not one per request. */
export async function markAdminKeyUsed(db: Db, id: string, now: Date): Promise<void> {
  await db
    .updateTable('admin_keys')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', new Date(now.getTime() - LAST_USED_RESOLUTION_MS))]))
    .execute();
}
