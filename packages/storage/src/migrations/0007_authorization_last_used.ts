// 2026-11-30: when a partner last used an authorization, recorded coarsely (at most once an hour) for the
// owner's Connected integrations page; nullable, so old rows read as never used since the column came.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('authorizations').addColumn('last_used_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('authorizations').dropColumn('last_used_at').execute();
}
