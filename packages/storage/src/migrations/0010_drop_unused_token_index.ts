// 2026-11-30: access_tokens_client_app_idx dropped (issue 13). No query looks access tokens up by (client_id, app_id):
// they are found by their hash, id, authorization, code or deadlines. The index cost every token's write an index
// insertion, and a planner on stale statistics once chose it over the hash's key (precompiled.test.ts).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('access_tokens_client_app_idx').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('access_tokens_client_app_idx').on('access_tokens').columns(['client_id', 'app_id']).execute();
}
