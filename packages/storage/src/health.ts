// The database half of a readiness probe: one round trip, nothing read.
import { type Kysely, sql } from 'kysely';

/** Resolves once the database answered `select 1`; throws when it cannot be reached. */
export async function pingDatabase(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}
