// 2026-11-28: admin API keys, the audit log, more RFC 7591 client metadata, revisions for ETags, webhook-secret overlap.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('policy_uri', 'text')
    .addColumn('tos_uri', 'text')
    // Bumped by every change of the client's representation: the ETag of optimistic concurrency.
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    // Until then, notifications are signed with version webhook_secret_version - 1 as well.
    .addColumn('webhook_secret_previous_expires_at', 'timestamptz')
    .execute();
  await sql`create index clients_name_idx on clients (lower(client_name))`.execute(db);
  await db.schema.createIndex('clients_status_idx').on('clients').columns(['status', 'created_at', 'client_id']).execute();

  await db.schema
    .createTable('admin_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();

  // Append-only; no foreign keys, so the history of a deleted client or a revoked key stays readable.
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('admin_key_id', 'text')
    .addColumn('admin_key_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('request_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_type', 'target_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('admin_keys').execute();
  await db.schema.dropIndex('clients_status_idx').execute();
  await db.schema.dropIndex('clients_name_idx').execute();
  await db.schema
    .alterTable('clients')
    .dropColumn('policy_uri')
    .dropColumn('tos_uri')
    .dropColumn('revision')
    .dropColumn('webhook_secret_previous_expires_at')
    .execute();
}
