// The Prometheus registry of one service: domain counters the apps increment where the events happen.
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, type LabelValues, Registry } from '@prometheus-io/client';

/** What a pg pool reports about itself (pg.Pool's counters). */
export interface PoolCounts {
  readonly totalCount: number;
  readonly waitingCount: number;
}

/** The process's open database pools, registered by whoever opens one (storage's openDatabase). */
const pools = new Set<PoolCounts>();

/** Counts `pool` in db_pool_* until the returned function is called (when the pool is closed). */
export function trackPool(pool: PoolCounts): () => void {
  pools.add(pool);
  return () => pools.delete(pool);
}

/** For a service's own gauges, registered on its ServiceMetrics registry. */
export { Gauge };

const sum = (pick: (p: PoolCounts) => number) => [...pools].reduce((n, p) => n + pick(p), 0);

/** Why a presented authorization code was refused (RFC 6749 §4.1.2, §10.5). */
export type CodeRefusal = 'invalid' | 'wrong_client' | 'replayed';

/** Who ended an access token. */
export type TokenRevoker = 'client' | 'partner' | 'app_owner' | 'replay';

/**
 * Starts each labelled series at 0, so the first event of a pod is an increase `increase()` can see (a series that
 * appears at 1 has no earlier sample to rise from).
 */
function preset<L extends string, C extends Counter<L>>(counter: C, label: L, values: string[]): C {
  for (const value of values) counter.inc({ [label]: value } as LabelValues<L>, 0);
  return counter;
}

/**
 * One registry per app instance, not prom-client's global one: the standalone process hosts three
 * apps and the tests build many, and a global registry would refuse the second registration.
 */
export function createServiceMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  const registers = [registry];
  return {
    registry,
    codesIssued: new Counter({ name: 'oauth_codes_issued_total', help: 'Authorization codes issued (stored).', registers }),
    codesRedeemed: new Counter({
      name: 'oauth_codes_redeemed_total',
      help: 'Authorization codes exchanged for an access token.',
      registers,
    }),
    codesRefused: preset(
      new Counter({
        name: 'oauth_codes_refused_total',
        help: 'Authorization codes refused at the token endpoint: invalid (unknown, expired or used), wrong_client, replayed (a used code again: its tokens revoked), grant_ended (what the code was bound to ended before it was redeemed), client_refused (the client disabled between its authentication and the exchange).',
        labelNames: ['reason'] as const,
        registers,
      }),
      'reason',
      ['invalid', 'wrong_client', 'replayed', 'grant_ended', 'client_refused'],
    ),
    refreshesRefused: preset(
      new Counter({
        name: 'oauth_refreshes_refused_total',
        help: "Refresh tokens refused at the token endpoint: invalid (unknown, expired, revoked, another client's), invalid_scope (a wider scope), reused (a rotated token again: its family ended).",
        labelNames: ['reason'] as const,
        registers,
      }),
      'reason',
      ['invalid', 'invalid_scope', 'reused'],
    ),
    tokensIssued: new Counter({ name: 'oauth_tokens_issued_total', help: 'Access tokens issued.', registers }),
    tokensRevoked: new Counter({
      name: 'oauth_tokens_revoked_total',
      help: 'Access tokens or authorizations ended, by who ended them.',
      labelNames: ['by'] as const,
      registers,
    }),
    loginFailures: new Counter({ name: 'oauth_login_failures_total', help: 'Failed sign-ins.', registers }),
    webhookDeliveries: preset(
      new Counter({
        name: 'webhook_deliveries_total',
        help: 'Removal notification delivery attempts, by outcome (delivered, retry, failed).',
        labelNames: ['outcome'] as const,
        registers,
      }),
      'outcome',
      ['delivered', 'retry', 'failed'],
    ),
    heapLimit: new Gauge({
      name: 'nodejs_heap_size_limit_bytes',
      help: "V8's heap size limit (--max-old-space-size or its default): the process dies out of memory near it.",
      registers,
      collect() {
        this.set(getHeapStatistics().heap_size_limit);
      },
    }),
    dbPoolClients: new Gauge({
      name: 'db_pool_clients',
      help: 'Postgres connections of this process: total (open) and waiting (requests queued for a free connection).',
      labelNames: ['state'] as const,
      registers,
      collect() {
        this.set(
          { state: 'total' },
          sum((p) => p.totalCount),
        );
        this.set(
          { state: 'waiting' },
          sum((p) => p.waitingCount),
        );
      },
    }),
    webhookWorkerUp: new Gauge({
      name: 'webhook_worker_up',
      help: 'Whether the removal notifier of this instance reaches its outbox (0 while its ticks fail and back off).',
      // Labelled so that services without a worker export no series (an unlabelled gauge reads 0 from the start).
      labelNames: ['outbox'] as const,
      registers,
    }),
    retentionDeleted: new Counter({
      name: 'retention_deleted_rows_total',
      help: 'Rows deleted by the retention sweep, by table.',
      labelNames: ['table'] as const,
      registers,
    }),
    retentionSweeps: new Counter({
      name: 'retention_sweeps_total',
      help: 'Retention sweeps tried, by outcome: swept, skipped (another instance held the lock), error.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    retentionSweepSeconds: new Gauge({
      name: 'retention_sweep_duration_seconds',
      help: 'How long the last retention sweep took.',
      registers,
    }),
    retentionLastSuccess: new Gauge({
      name: 'retention_sweep_last_success_timestamp_seconds',
      help: 'When this instance last completed a retention sweep (unix seconds); 0 until it has (another instance may be the one sweeping).',
      registers,
    }),
    dependencyUp: new Gauge({
      name: 'dependency_up',
      help: 'Whether the last readiness check of a dependency passed (1) or failed (0).',
      labelNames: ['dependency'] as const,
      registers,
    }),
    dependencyCheckSeconds: new Gauge({
      name: 'dependency_check_seconds',
      help: 'How long the last readiness check of a dependency took.',
      labelNames: ['dependency'] as const,
      registers,
    }),
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
