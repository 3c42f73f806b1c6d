// Opens the database: Postgres through pg when a URL is given, else embedded PGlite under a data folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { settleWithin, trackPool } from '@partner-oauth/service-kit';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { lockEmbeddedDatabase } from './embedded-lock.js';
import { NulGuardPlugin } from './nul-guard.js';
import { PreparingClient } from './prepared.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface DbOptions {
  /** postgres:// URL; without it an embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** Where embedded PGlite keeps its files; `memory://` for a throw-away one. */
  dataDir?: string;
  poolSize?: number;
  /**
   * Longest a statement may run (server side) and a reply may take (client side, a little longer, so a
   * silent server is noticed too); 0 for none, as migrations want.
   */
  queryTimeoutMs?: number;
}

/**
 * The embedded database's folder: `pglite` under DATA_DIR (default `.data`). Every command that opens the
 * embedded database (pnpm start, db:migrate, db:seed, cli) asks here, so DATA_DIR means one thing.
 */
export function embeddedDataDir(dataDir: string | undefined = process.env.DATA_DIR): string {
  return join(dataDir || '.data', 'pglite');
}

/** How long a connection attempt may take before the request fails as unavailable. */
const CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_QUERY_TIMEOUT_MS = 5_000;
/** Closing must end even when the server no longer answers: in-flight clients are abandoned after this. */
const CLOSE_TIMEOUT_MS = 2_000;

/** A pg pool whose end() is bounded, so shutdown during an outage still completes. */
class BoundedPool extends pg.Pool {
  /** Counted in db_pool_clients (waiters mean the pool is too small for the load) until closed. */
  readonly #untrack = trackPool(this);

  override end(): Promise<void> {
    this.#untrack();
    return settleWithin(super.end(), CLOSE_TIMEOUT_MS);
  }
}

export async function openDatabase(options: DbOptions): Promise<Db> {
  if (options.databaseUrl) {
    const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    const pool = new BoundedPool({
      connectionString: options.databaseUrl,
      Client: PreparingClient,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      ...(queryTimeoutMs > 0 ? { statement_timeout: queryTimeoutMs, query_timeout: queryTimeoutMs + 1_000 } : {}),
    });
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    // pg-pool listens on a client only while it is idle: a socket that dies while Kysely holds the client (a query
    // or a transaction in flight) emits 'error' with no listener, which kills the process. The query itself
    // rejects with the same error (a 503 upstream), and the pool discards the broken client on release.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new NulGuardPlugin()] });
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dataDir = options.dataDir ?? embeddedDataDir();
  if (dataDir.startsWith('memory://')) {
    const pglite = await PGlite.create(dataDir);
    return new Kysely<Database>({ dialect: new PGliteDialect({ pglite }), plugins: [new NulGuardPlugin()] });
  }
  // Refused here, before PGlite touches a file, when another process (a running `pnpm start`) has it open.
  mkdirSync(dataDir, { recursive: true });
  const lock = lockEmbeddedDatabase(dataDir);
  let pglite: InstanceType<typeof PGlite>;
  try {
    pglite = await PGlite.create(dataDir);
  } catch (err) {
    lock.release();
    throw err;
  }
  const close = pglite.close.bind(pglite);
  pglite.close = async () => {
    try {
      await close();
    } finally {
      lock.release();
    }
  };
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }), plugins: [new NulGuardPlugin()] });
  // Kysely closes PGlite only if a query ever ran; it (and the lock) must be released either way.
  const destroy = db.destroy.bind(db);
  db.destroy = async () => {
    await destroy();
    if (!pglite.closed) await pglite.close();
  };
  return db;
}
