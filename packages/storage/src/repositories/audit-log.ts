// The audit log of admin changes: who (which key), what, when, and the before/after with secrets left out.
import { sql } from 'kysely';
import type { Db } from '../db.js';

export interface AuditEntryInput {
  adminKeyId: string | null;
  adminKeyName: string;
  action: string;
  targetType: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
  requestId?: string | undefined;
}

export interface AuditEntry {
  id: string;
  admin_key_id: string | null;
  admin_key_name: string;
  action: string;
  target_type: string;
  target_id: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
  created_at: Date;
}

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/** Appends one entry; pass the transaction of the change so neither exists without the other. */
export async function appendAudit(db: Db, entry: AuditEntryInput): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      admin_key_id: entry.adminKeyId,
      admin_key_name: entry.adminKeyName,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      before: json(entry.before),
      after: json(entry.after),
      request_id: entry.requestId ?? null,
    })
    .execute();
}

/** Newest first, resuming below the entry `beforeId`. */
export async function listAudit(
  db: Db,
  opts: { limit: number; beforeId?: string | undefined; targetType?: string | undefined; targetId?: string | undefined },
): Promise<AuditEntry[]> {
  let q = db
    .selectFrom('audit_log')
    .select([
      sql<string>`id::text`.as('id'),
      'admin_key_id',
      'admin_key_name',
      'action',
      'target_type',
      'target_id',
      'before',
      'after',
      'request_id',
      'created_at',
    ])
    .orderBy('audit_log.id', 'desc')
    .limit(opts.limit);
  if (opts.beforeId !== undefined) q = q.where(sql<boolean>`audit_log.id < ${opts.beforeId}::bigint`);
  if (opts.targetType !== undefined) q = q.where('target_type', '=', opts.targetType);
  if (opts.targetId !== undefined) q = q.where('target_id', '=', opts.targetId);
  return q.execute();
}
