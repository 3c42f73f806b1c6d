// The database half of a readiness probe: one round trip, nothing read.
import { isStoreUnavailable, type ReadinessCheck, reportOnly } from '@partner-oauth/service-kit';
import { type Kysely, sql } from 'kysely';
import { isMigrated } from './migrate.js';

/** Resolves once the database answered `select 1`; throws when it cannot be reached. */
export async function pingDatabase(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}

/**
 * The readiness checks every service runs on its database. `postgres` is reported, not gating (a shared store:
 * see reportOnly). `migrations` gates: an instance whose code expects a newer schema must not serve. Once the
 * schema was found current it stays so for this process (migrations only move forward, and old code runs on a
 * newer schema), so a later Postgres outage is reported as `postgres`, never as `migrations`; while Postgres
 * cannot be reached and the schema was never checked, migrations answers 'unknown'.
 */
export function databaseChecks(db: Kysely<any>): Record<'postgres' | 'migrations', ReadinessCheck> {
  let current = false;
  return {
    postgres: reportOnly(() => pingDatabase(db)),
    migrations: async () => {
      if (current) return true;
      try {
        current = await isMigrated(db);
      } catch (err) {
        if (isStoreUnavailable(err)) return 'unknown';
        throw err;
      }
      return current;
    },
  };
}
