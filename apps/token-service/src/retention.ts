// The retention sweep beside the removal-notification worker: its schedule, metrics and log lines.
import type { Clock, ServiceMetrics } from '@partner-oauth/service-kit';
import { type Db, RETENTION_TABLES, type RetentionSweeper, startRetentionSweeper } from '@partner-oauth/storage';
import type { FastifyBaseLogger } from 'fastify';

export interface RetentionSettings {
  RETENTION_SECONDS: number;
  AUDIT_RETENTION_SECONDS: number;
  RETENTION_SWEEP_SECONDS: number;
}

export function startRetention(
  db: Db,
  settings: RetentionSettings,
  clock: Clock,
  log: FastifyBaseLogger,
  m: ServiceMetrics,
): RetentionSweeper {
  // Every table's series present from the start, so rate() sees the first deletions.
  for (const table of RETENTION_TABLES) m.retentionDeleted.inc({ table }, 0);
  return startRetentionSweeper({
    db,
    clock,
    retentionSeconds: settings.RETENTION_SECONDS,
    auditRetentionSeconds: settings.AUDIT_RETENTION_SECONDS,
    intervalMs: settings.RETENTION_SWEEP_SECONDS * 1000,
    onRun: ({ result, error, durationMs, at }) => {
      if (!result) {
        m.retentionSweeps.inc({ outcome: 'error' });
        log.error({ event: 'retention.failed', err: error, duration_ms: Math.round(durationMs) }, 'retention sweep failed');
        return;
      }
      if (!result.swept) {
        m.retentionSweeps.inc({ outcome: 'skipped' });
        return;
      }
      m.retentionSweeps.inc({ outcome: 'swept' });
      for (const table of RETENTION_TABLES) m.retentionDeleted.inc({ table }, result.deleted[table]);
      m.retentionSweepSeconds.set(durationMs / 1000);
      m.retentionLastSuccess.set(Math.floor(at / 1000));
      log.info({ event: 'retention.swept', deleted: result.deleted, duration_ms: Math.round(durationMs) }, 'retention sweep done');
    },
  });
}
