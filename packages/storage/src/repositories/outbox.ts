// The outbox of removal notifications (webhook_deliveries): queued in the transaction that ends an
// authorization, claimed under a lease by any number of workers, each outcome recorded fenced on the claim;
// and its backlog, read for the metrics.
import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Db } from '../db.js';
import type { Database, WebhookDeliveryRow, WebhookDeliveryTable } from '../schema.js';

/** Queues notifications in the caller's transaction: nothing is ended without its notice. */
export async function queueDeliveries(
  trx: Kysely<Database> | Transaction<Database>,
  rows: Insertable<WebhookDeliveryTable>[],
): Promise<void> {
  if (rows.length > 0) await trx.insertInto('webhook_deliveries').values(rows).execute();
}

/**
 * Claims up to `limit` due rows: locks them (skipping rows another worker holds), moves their
 * next_attempt_at to `leaseUntil` so no other worker sees them as due, and commits. The returned
 * rows carry the lease, which recordDeliveryOutcome uses as a fencing token.
 */
export async function claimDueDeliveries(db: Db, opts: { now: Date; leaseUntil: Date; limit: number }): Promise<WebhookDeliveryRow[]> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', opts.now)
      .orderBy('next_attempt_at')
      .limit(opts.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length === 0) return [];
    await trx
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: opts.leaseUntil })
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return rows.map((r) => ({ ...r, next_attempt_at: opts.leaseUntil }));
  });
}

/**
 * Records an attempt's outcome on a claimed row, fenced on the claim: if the lease ran out and another
 * worker took the row, its outcome stands and this answers false.
 */
export async function recordDeliveryOutcome(
  db: Db,
  claimed: Pick<WebhookDeliveryRow, 'id' | 'attempts' | 'next_attempt_at'>,
  update: Updateable<WebhookDeliveryTable>,
): Promise<boolean> {
  const res = await db
    .updateTable('webhook_deliveries')
    .set(update)
    .where('id', '=', claimed.id)
    .where('status', '=', 'pending')
    .where('attempts', '=', claimed.attempts)
    .where('next_attempt_at', '=', claimed.next_attempt_at)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** The outbox's backlog: notifications not yet delivered nor given up, and how long the oldest has waited (0 when none). */
export async function outboxBacklog(db: Db, now: Date): Promise<{ pending: number; oldestSeconds: number }> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<string>().as('pending'), eb.fn.min('created_at').as('oldest')])
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  const oldest = row.oldest ? new Date(row.oldest as Date | string) : undefined;
  return { pending: Number(row.pending), oldestSeconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0 };
}
