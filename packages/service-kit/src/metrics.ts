// The Prometheus registry of one service: domain counters the apps increment where the events happen.
import { Counter, Gauge, Registry } from '@prometheus-io/client';

/** Why a presented authorization code was refused (RFC 6749 §4.1.2, §10.5). */
export type CodeRefusal = 'invalid' | 'wrong_client' | 'replayed';

/** Who ended an access token. */
export type TokenRevoker = 'client' | 'partner' | 'app_owner' | 'replay';

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
    codesRefused: new Counter({
      name: 'oauth_codes_refused_total',
      help: 'Authorization codes refused at the token endpoint: invalid (unknown, expired or used), wrong_client, replayed (a used code again: its tokens revoked).',
      labelNames: ['reason'] as const,
      registers,
    }),
    tokensIssued: new Counter({ name: 'oauth_tokens_issued_total', help: 'Access tokens issued.', registers }),
    tokensRevoked: new Counter({
      name: 'oauth_tokens_revoked_total',
      help: 'Access tokens or authorizations ended, by who ended them.',
      labelNames: ['by'] as const,
      registers,
    }),
    loginFailures: new Counter({ name: 'oauth_login_failures_total', help: 'Failed sign-ins.', registers }),
    webhookDeliveries: new Counter({
      name: 'webhook_deliveries_total',
      help: 'Removal notification delivery attempts, by outcome (delivered, retry, failed).',
      labelNames: ['outcome'] as const,
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
