// Credentials of the platform's own APIs (resource servers) for token introspection (RFC 7662 §2.1).
import type { Db } from '../db.js';

export async function createResourceServer(db: Db, input: { id: string; name: string; secretHash: string }): Promise<void> {
  await db.insertInto('resource_servers').values({ id: input.id, name: input.name, secret_hash: input.secretHash }).execute();
}

export function findLiveResourceServer(db: Db, id: string): Promise<{ id: string; secret_hash: string } | undefined> {
  return db
    .selectFrom('resource_servers')
    .select(['id', 'secret_hash'])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}
