// The database half of a readiness probe: one round trip, nothing read.
import { type Kysely, sql } from 'kysely';
import { isMigrated } from './migrate.js';

/** Resolves once the database answered `select 1`; throws when it cannot be reached. */
export async function pingDatabase(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The readiness checks every service runs on its database: it answers, and its schema is current. */
export function databaseChecks(db: Kysely<any>): Record<'postgres' | 'migrations', () => Promise<unknown>> {
  return {
    postgres: () => pingDatabase(db),
    // Resolving false counts as not ready.
    migrations: () => isMigrated(db),
  };
}
