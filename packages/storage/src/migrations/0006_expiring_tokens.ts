// 2026-11-30: expiring tokens, opt-in per client (issue 14): access-token expiry and rotating refresh tokens
// (RFC 6749 §1.5, §6; RFC 9700 §4.14.2). Off by default, so every existing client and token behaves as before.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Lifetimes in seconds. The admin API holds them to the documented bounds; the database only to positive values,
  // so tests and operators can run a lifetime of seconds.
  await db.schema
    .alterTable('clients')
    .addColumn('expiring_tokens', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('access_token_lifetime', 'integer', (c) => c.notNull().defaultTo(43_200).check(sql`access_token_lifetime > 0`))
    .addColumn('refresh_token_idle_lifetime', 'integer', (c) =>
      c.notNull().defaultTo(2_592_000).check(sql`refresh_token_idle_lifetime > 0`),
    )
    .addColumn('refresh_token_absolute_lifetime', 'integer', (c) =>
      c.notNull().defaultTo(15_552_000).check(sql`refresh_token_absolute_lifetime > 0`),
    )
    .execute();
  // Null: the spec's token, live until revoked (every token issued before this migration, and every client with expiry off).
  await db.schema.alterTable('access_tokens').addColumn('expires_at', 'timestamptz').execute();
  // A refresh token belongs to its authorization (the family): reuse of a rotated one ends the authorization and
  // everything under it. Rotated rows stay (used_at set) so a replay is recognised as one.
  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('authorization_id', 'text', (c) => c.notNull().references('authorizations.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull().defaultTo(''))
    // The code the family started from, carried through every rotation: a replayed code ends what it issued.
    .addColumn('code_hash', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    /** The idle deadline: this token's own life, never past the family's. */
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    /** The absolute deadline, carried unchanged from the code exchange through every rotation. */
    .addColumn('family_expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('refresh_tokens_authorization_idx').on('refresh_tokens').column('authorization_id').execute();
  await db.schema.createIndex('refresh_tokens_code_idx').on('refresh_tokens').column('code_hash').execute();
  // For the retention sweep: what ended (revoked, or its family past its absolute deadline), and expired access tokens.
  await sql`create index refresh_tokens_revoked_idx on refresh_tokens (revoked_at) where revoked_at is not null`.execute(db);
  await db.schema.createIndex('refresh_tokens_family_expires_idx').on('refresh_tokens').column('family_expires_at').execute();
  await sql`create index access_tokens_expires_idx on access_tokens (expires_at) where expires_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('access_tokens_expires_idx').execute();
  await db.schema.dropTable('refresh_tokens').execute();
  await db.schema.alterTable('access_tokens').dropColumn('expires_at').execute();
  await db.schema
    .alterTable('clients')
    .dropColumn('expiring_tokens')
    .dropColumn('access_token_lifetime')
    .dropColumn('refresh_token_idle_lifetime')
    .dropColumn('refresh_token_absolute_lifetime')
    .execute();
}
