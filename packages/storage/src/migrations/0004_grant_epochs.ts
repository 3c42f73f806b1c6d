// 2026-11-30: codes that outlive their grant (a per-client code epoch, an index to count a pair's ended authorizations);
// read-only admin keys; resource-server secret rotation with overlap.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Codes carry the epoch they were issued under; disabling the client or rotating its secret without
  // overlap draws a new one, and every code of an older epoch stops redeeming. Random, not a counter, so
  // a client deleted and registered again under the same id starts from an epoch no old code holds.
  await db.schema
    .alterTable('clients')
    .addColumn('code_epoch', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .execute();
  // Redemption counts the ended authorizations of one (client, app): the live-only unique index cannot serve it.
  await db.schema.createIndex('authorizations_client_app_idx').on('authorizations').columns(['client_id', 'app_id']).execute();
  // `read` keys may only read (GET); every existing key keeps the full power it had.
  await db.schema
    .alterTable('admin_keys')
    .addColumn('access', 'text', (c) => c.notNull().defaultTo('full').check(sql`access in ('full', 'read')`))
    .execute();
  // During a rotation's overlap the previous secret keeps authenticating introspection until it expires.
  await db.schema
    .alterTable('resource_servers')
    .addColumn('previous_secret_hash', 'text')
    .addColumn('previous_expires_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('resource_servers').dropColumn('previous_secret_hash').dropColumn('previous_expires_at').execute();
  await db.schema.alterTable('admin_keys').dropColumn('access').execute();
  await db.schema.dropIndex('authorizations_client_app_idx').execute();
  await db.schema.alterTable('clients').dropColumn('code_epoch').execute();
}
