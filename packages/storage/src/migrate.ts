// Runs the Kysely migrations, listed statically so they work from dist/ and from source alike.
import type { Kysely } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_scopes_pkce_webhooks.js';
import * as m0003 from './migrations/0003_admin_keys_audit.js';
import * as m0004 from './migrations/0004_grant_epochs.js';
import * as m0005 from './migrations/0005_retention_indexes.js';
import * as m0006 from './migrations/0006_expiring_tokens.js';
import * as m0007 from './migrations/0007_authorization_last_used.js';
import * as m0008 from './migrations/0008_issue_tokens_from_codes.js';
import * as m0009 from './migrations/0009_rotate_refresh_tokens.js';
import * as m0010 from './migrations/0010_drop_unused_token_index.js';
import * as m0011 from './migrations/0011_replayed_codes.js';
import * as m0012 from './migrations/0012_issue_token_from_code.js';

const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_scopes_pkce_webhooks': m0002,
  '0003_admin_keys_audit': m0003,
  '0004_grant_epochs': m0004,
  '0005_retention_indexes': m0005,
  '0006_expiring_tokens': m0006,
  '0007_authorization_last_used': m0007,
  '0008_issue_tokens_from_codes': m0008,
  '0009_rotate_refresh_tokens': m0009,
  '0010_drop_unused_token_index': m0010,
  '0011_replayed_codes': m0011,
  '0012_issue_token_from_code': m0012,
};

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export const LATEST_MIGRATION = Object.keys(migrations).at(-1) as string;

export function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: new StaticMigrationProvider() });
}

/** Migrates to the latest version; throws (with the failing migration's name) on error. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed?.migrationName ?? '(setup)'} failed: ${cause}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when every known migration has been applied. */
export async function isMigrated(db: Kysely<any>): Promise<boolean> {
  const list = await migrator(db).getMigrations();
  return list.every((m) => m.executedAt !== undefined);
}
