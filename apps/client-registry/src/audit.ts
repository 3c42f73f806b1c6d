// Records admin changes in the audit log, in the transaction of the change, secrets left out by construction.
import { appendAudit, type Db } from '@partner-oauth/storage';
import type { FastifyRequest } from 'fastify';

export interface AuditChange {
  action: string;
  targetType: 'client' | 'client_secret' | 'webhook_secret' | 'authorization' | 'admin_key' | 'resource_server';
  targetId: string;
  /** Views as the API shows them: they never carry secret values. */
  before?: unknown;
  after?: unknown;
}

export function audit(trx: Db, request: FastifyRequest, change: AuditChange): Promise<void> {
  return appendAudit(trx, {
    adminKeyId: request.admin.id,
    adminKeyName: request.admin.name,
    action: change.action,
    targetType: change.targetType,
    targetId: change.targetId,
    before: change.before,
    after: change.after,
    requestId: request.id,
  });
}
