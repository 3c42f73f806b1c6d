// 2026-11-27: per-client scopes and PKCE, removal webhooks (outbox), resource-server credentials.
import { type Kysely, sql } from 'kysely';

/** The scope catalogue as of this migration; clients registered before it keep unrestricted access. */
const CATALOGUE_2026_11 = ['app:read', 'conversations:read', 'conversations:write', 'users:read', 'webhooks:manage'];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('allowed_scopes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('default_scope', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('require_pkce', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('remove_url', 'text')
    .addColumn('webhook_secret_version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await sql`update clients set allowed_scopes = ${sql.val(CATALOGUE_2026_11)}::text[], default_scope = ${CATALOGUE_2026_11.join(' ')}`.execute(
    db,
  );

  await db.schema
    .createTable('resource_servers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();

  // The outbox of removal notifications: written in the transaction that ends the authorization.
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('authorization_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret_version', 'integer', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(db);
  await db.schema.createIndex('webhook_deliveries_client_idx').on('webhook_deliveries').column('client_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('resource_servers').execute();
  await db.schema
    .alterTable('clients')
    .dropColumn('allowed_scopes')
    .dropColumn('default_scope')
    .dropColumn('require_pkce')
    .dropColumn('remove_url')
    .dropColumn('webhook_secret_version')
    .execute();
}
