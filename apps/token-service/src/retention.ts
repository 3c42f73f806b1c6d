// The retention sweep beside the removal-notification worker: its schedule, metrics and log lines.
import type { Clock, ServiceMetrics } from '@partner-oauth/service-kit';
import { type Db, RETENTION_TABLES, type RetentionSweeper, startRetentionSweeper } from '@partner-oauth/storage';
import { Counter, Gauge } from '@prometheus-io/client';
import type { FastifyBaseLogger } from 'fastify';

export interface RetentionSettings {
  RETENTION_SECONDS: number;
  AUDIT_RETENTION_SECONDS: number;
  RETENTION_SWEEP_SECONDS: number;
}

/** The sweep's series, on the service's own registry. */
export function retentionMetrics(metrics: ServiceMetrics) {
  const registers = [metrics.registry];
  const deleted = new Counter({
    name: 'retention_deleted_rows_total',
    help: 'Rows deleted by the retention sweep, by table.',
    labelNames: ['table'] as const,
    registers,
  });
  // Every table present from the start, so rate() sees the first deletions.
  for (const table of RETENTION_TABLES) deleted.inc({ table }, 0);
  return {
    deleted,
    runs: new Counter({
      name: 'retention_sweeps_total',
      help: 'Retention sweeps tried, by outcome: swept, skipped (another instance held the lock), error.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    duration: new Gauge({ name: 'retention_sweep_duration_seconds', help: 'How long the last retention sweep took.', registers }),
    lastSuccess: new Gauge({
      name: 'retention_sweep_last_success_timestamp_seconds',
      help: 'When this instance last completed a retention sweep (unix seconds); absent until it has.',
      registers,
    }),
  };
}

export function startRetention(
  db: Db,
  settings: RetentionSettings,
  clock: Clock,
  log: FastifyBaseLogger,
  metrics: ServiceMetrics,
): RetentionSweeper {
  const m = retentionMetrics(metrics);
  return startRetentionSweeper({
    db,
    clock,
    retentionSeconds: settings.RETENTION_SECONDS,
    auditRetentionSeconds: settings.AUDIT_RETENTION_SECONDS,
    intervalMs: settings.RETENTION_SWEEP_SECONDS * 1000,
    onRun: ({ result, error, durationMs, at }) => {
      if (!result) {
        m.runs.inc({ outcome: 'error' });
        log.error({ event: 'retention.failed', err: error, duration_ms: Math.round(durationMs) }, 'retention sweep failed');
        return;
      }
      if (!result.swept) {
        m.runs.inc({ outcome: 'skipped' });
        return;
      }
      m.runs.inc({ outcome: 'swept' });
      for (const table of RETENTION_TABLES) m.deleted.inc({ table }, result.deleted[table]);
      m.duration.set(durationMs / 1000);
      m.lastSuccess.set(Math.floor(at / 1000));
      log.info({ event: 'retention.swept', deleted: result.deleted, duration_ms: Math.round(durationMs) }, 'retention sweep done');
    },
  });
}
