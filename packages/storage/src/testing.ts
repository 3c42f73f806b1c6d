// Test databases on the real Postgres: one migrated template per test run, one clone per test file.
import { randomBytes } from 'node:crypto';
import { sha256 } from '@partner-oauth/service-kit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type {} from 'vitest';
import { type Db, openDatabase } from './db.js';
import { migrateToLatest } from './migrate.js';
import { type ClientInput, createClient } from './repositories/clients.js';
import { type SeededIds, seedDemoData } from './seed.js';

/** The server tests run against; trust auth on loopback by default. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Cheap password hashing for seeded test accounts. */
export const TEST_PASSWORD_PARAMS = { N: 1024, r: 8, p: 1 };

function urlFor(database: string): string {
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const suffix = () => `${process.pid}_${randomBytes(4).toString('hex')}`;

/**
 * Creates and migrates this run's template database (with the demo data), returning
 * its name and a teardown. Called from a vitest globalSetup.
 */
export async function createTemplateDatabase(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `poauth_tmpl_${suffix()}`;
  await admin((c) => c.query(`create database ${name}`));
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: urlFor(name), max: 1 }) }) });
  try {
    await migrateToLatest(db);
    await seedDemoData(db as Db, TEST_PASSWORD_PARAMS);
  } finally {
    await db.destroy();
  }
  return { name, drop: () => dropDatabase(name) };
}

async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists ${name} with (force)`));
}

export interface TestDatabase {
  url: string;
  name: string;
  db: Db;
  ids: SeededIds;
  drop: () => Promise<void>;
}

/** A fresh database cloned from `template`, seeded and migrated, for one test file. */
export async function createTestDatabase(template: string): Promise<TestDatabase> {
  const name = `poauth_t_${suffix()}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((c) => c.query(`create database ${name} template ${template}`));
      break;
    } catch (err) {
      // Two clones of one template at the same instant: Postgres refuses the second; retry.
      if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
  const url = urlFor(name);
  const db = await openDatabase({ databaseUrl: url, poolSize: 5 });
  const ids = await seedDemoData(db, TEST_PASSWORD_PARAMS);
  return {
    url,
    name,
    db,
    ids,
    drop: async () => {
      await db.destroy();
      await dropDatabase(name);
    },
  };
}

/**
 * The vitest globalSetup of every package that tests against Postgres: one migrated, seeded
 * template per run, offered to the test files as `inject('templateDatabase')`, dropped at the end.
 */
export async function setupTemplateDatabase(project: {
  provide(key: 'templateDatabase', value: string): void;
}): Promise<() => Promise<void>> {
  const template = await createTemplateDatabase();
  project.provide('templateDatabase', template.name);
  return template.drop;
}

export interface TestClient {
  client_id: string;
  client_secret: string;
}

/**
 * Registers a partner straight in storage, the way the registry does (createClient, secret hashed), so a
 * test can involve "another client" without the admin API. Defaults: `Client <id>`, one callback on
 * https://<id>.example, scope app:read, secret `<id>-secret`.
 */
export async function addTestClient(
  db: Db,
  clientId: string,
  overrides: Partial<Omit<ClientInput, 'client_id'>> & { secret?: string } = {},
): Promise<TestClient> {
  const { secret = `${clientId}-secret`, ...input } = overrides;
  await createClient(
    db,
    {
      client_name: `Client ${clientId}`,
      redirect_uris: [`https://${clientId}.example/callback`],
      allowed_scopes: ['app:read'],
      default_scope: 'app:read',
      require_pkce: false,
      ...input,
      client_id: clientId,
    },
    sha256(secret),
  );
  return { client_id: clientId, client_secret: secret };
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/**
 * Ids of live tokens (access, or unused refresh) whose authorization has ended: a token that outlives its
 * partner's removal. Always [] when sound.
 */
export async function liveTokensUnderEndedAuthorizations(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('access_tokens as k')
    .innerJoin('authorizations as a', 'a.id', 'k.authorization_id')
    .select('k.id')
    .where('k.revoked_at', 'is', null)
    .where('a.revoked_at', 'is not', null)
    .unionAll(
      db
        .selectFrom('refresh_tokens as r')
        .innerJoin('authorizations as a', 'a.id', 'r.authorization_id')
        .select('r.id')
        .where('r.revoked_at', 'is', null)
        .where('r.used_at', 'is', null)
        .where('a.revoked_at', 'is not', null),
    )
    .execute();
  return rows.map((r) => r.id);
}

/** Runs `fn` in a transaction of `db` that is then rolled back, returning what it returned: a write seen, then undone. */
export async function rolledBack<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  let out: T | undefined;
  const rollback = new Error('rollback');
  await db
    .transaction()
    .execute(async (trx) => {
      out = await fn(trx);
      throw rollback;
    })
    .catch((err) => {
      if (err !== rollback) throw err;
    });
  return out as T;
}
