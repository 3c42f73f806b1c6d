// Opens the database: Postgres through pg when a URL is given, else embedded PGlite under a data folder.
import { mkdirSync } from 'node:fs';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NulGuardPlugin } from './nul-guard.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface DbOptions {
  /** postgres:// URL; without it an embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** Where embedded PGlite keeps its files; `memory://` for a throw-away one. */
  dataDir?: string;
  poolSize?: number;
}

export async function openDatabase(options: DbOptions): Promise<Db> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 5_000,
    });
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new NulGuardPlugin()] });
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dataDir = options.dataDir ?? '.data/pglite';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  return new Kysely<Database>({ dialect: new PGliteDialect({ pglite }), plugins: [new NulGuardPlugin()] });
}
