// 2026-11-30: indexes for the retention sweep, so finding what ended before the cutoff reads only ended rows.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Partial: live rows (the overwhelming majority of lookups) carry no entry, and the indexes stay as small as the window.
  await sql`create index if not exists access_tokens_revoked_idx on access_tokens (revoked_at) where revoked_at is not null`.execute(db);
  await sql`create index if not exists authorizations_revoked_idx on authorizations (revoked_at) where revoked_at is not null`.execute(db);
  await sql`create index if not exists webhook_deliveries_completed_idx on webhook_deliveries (completed_at) where status in ('delivered', 'failed')`.execute(
    db,
  );
  await db.schema.createIndex('audit_log_created_idx').ifNotExists().on('audit_log').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'audit_log_created_idx',
    'webhook_deliveries_completed_idx',
    'authorizations_revoked_idx',
    'access_tokens_revoked_idx',
  ]) {
    await db.schema.dropIndex(index).execute();
  }
}
