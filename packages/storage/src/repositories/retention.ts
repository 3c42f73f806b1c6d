// Retention: deletes what ended longer ago than the retention window, in small batches, one instance at a time.
import { sql } from 'kysely';
import type { Db } from '../db.js';

/** The tables the sweep prunes, in the order it prunes them (tokens before the authorizations they cascade from). */
export const RETENTION_TABLES = [
  'refresh_tokens',
  'access_tokens',
  'authorizations',
  'webhook_deliveries',
  'audit_log',
  'replayed_codes',
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/** Shortest retention accepted: anything shorter would race requests still reading what just ended. */
export const MIN_RETENTION_SECONDS = 60;

/**
 * The session-level advisory lock every instance tries before sweeping (a fixed key: the two int4
 * halves of "po-retention"), so one instance sweeps at a time across the deployment and the others skip.
 */
const LOCK_KEY = sql`pg_try_advisory_lock(1886339693, 1919251566)`;
const UNLOCK = sql`pg_advisory_unlock(1886339693, 1919251566)`;

export interface RetentionOptions {
  /** "Now", from the caller's clock (tests pass a fake one). */
  now: Date;
  /** Ended rows older than this are deleted (revoked tokens, ended authorizations, finished notices). */
  retentionSeconds: number;
  /** Audit entries older than this are deleted. */
  auditRetentionSeconds: number;
  /** Rows per DELETE statement: small, so no statement holds its row locks for long. */
  batchSize?: number;
  /** Statements per table per sweep: a large backlog is worked off over several sweeps. */
  maxBatches?: number;
}

export interface RetentionResult {
  /** False when another instance held the lock: this one did nothing. */
  swept: boolean;
  deleted: Record<RetentionTable, number>;
}

const zero = (): Record<RetentionTable, number> => ({
  refresh_tokens: 0,
  access_tokens: 0,
  authorizations: 0,
  webhook_deliveries: 0,
  audit_log: 0,
  replayed_codes: 0,
});

/*
 * One batch per table. Each picks at most `limit` ended rows through its partial index and skips rows
 * another transaction holds (a revocation in flight), so a batch never waits on live traffic.
 * Only ended rows qualify: a live token or authorization (revoked_at null) or a pending notice never does.
 */
function batch(table: RetentionTable, cutoff: Date, auditCutoff: Date, limit: number) {
  switch (table) {
    case 'refresh_tokens':
      // A rotated token is kept while its family lives (presented again, it must still be recognised as a reuse);
      // once revoked, or once the family is past its absolute deadline, it can do nothing more.
      return sql`delete from refresh_tokens where id in (
        select id from refresh_tokens where revoked_at < ${cutoff} or family_expires_at < ${cutoff}
        limit ${limit} for update skip locked)`;
    case 'access_tokens':
      // Revoked, or expired (expiring tokens, 0006): both answer active:false for ever.
      return sql`delete from access_tokens where id in (
        select id from access_tokens where revoked_at < ${cutoff} or expires_at < ${cutoff} limit ${limit} for update skip locked)`;
    case 'authorizations':
      // Its tokens were all revoked when it ended (endAuthorizations), so the cascade takes only ended ones.
      return sql`delete from authorizations where id in (
        select id from authorizations where revoked_at < ${cutoff} limit ${limit} for update skip locked)`;
    case 'webhook_deliveries':
      return sql`delete from webhook_deliveries where id in (
        select id from webhook_deliveries where status in ('delivered', 'failed') and completed_at < ${cutoff}
        limit ${limit} for update skip locked)`;
    case 'audit_log':
      return sql`delete from audit_log where id in (
        select id from audit_log where created_at < ${auditCutoff} limit ${limit} for update skip locked)`;
    case 'replayed_codes':
      // A replay's marker matters only while the code could still be redeemed (grants.ts, revokeTokensFromCode).
      return sql`delete from replayed_codes where code_hash in (
        select code_hash from replayed_codes where expires_at < ${cutoff} limit ${limit} for update skip locked)`;
  }
}

/**
 * Deletes, table by table and batch by batch, what ended before now - retention. Returns swept:false
 * without touching anything when another instance is sweeping.
 */
export async function sweepRetention(db: Db, options: RetentionOptions): Promise<RetentionResult> {
  const { now, retentionSeconds, auditRetentionSeconds, batchSize = 500, maxBatches = 200 } = options;
  if (!(retentionSeconds >= MIN_RETENTION_SECONDS && auditRetentionSeconds >= MIN_RETENTION_SECONDS))
    throw new RangeError(`retention must be at least ${MIN_RETENTION_SECONDS} seconds`);
  if (!(batchSize >= 1 && maxBatches >= 1)) throw new RangeError('batchSize and maxBatches must be at least 1');
  const cutoff = new Date(now.getTime() - retentionSeconds * 1000);
  const auditCutoff = new Date(now.getTime() - auditRetentionSeconds * 1000);
  const deleted = zero();
  // The lock belongs to a session: take it, sweep and release it on one connection.
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ locked: boolean }>`select ${LOCK_KEY} as locked`.execute(conn);
    if (!rows[0]?.locked) return { swept: false, deleted };
    try {
      for (const table of RETENTION_TABLES) {
        for (let i = 0; i < maxBatches; i++) {
          const result = await batch(table, cutoff, auditCutoff, batchSize).execute(conn);
          const n = Number(result.numAffectedRows ?? 0n);
          deleted[table] += n;
          if (n < batchSize) break;
        }
      }
      return { swept: true, deleted };
    } finally {
      // Were this to fail the connection is broken, and the server drops a dead session's locks with it.
      await sql`select ${UNLOCK}`.execute(conn).catch(() => undefined);
    }
  });
}
