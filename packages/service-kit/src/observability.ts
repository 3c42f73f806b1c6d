// Health and metrics for every service: /health/live, /health/ready (dependency checks, 503 while draining) and /metrics.
import * as promClient from '@prometheus-io/client';
import type { FastifyInstance } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import fp from 'fastify-plugin';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';

// A CommonJS module whose plugin is its `default` property: Node's ESM import hands over module.exports.
const fastifyMetrics = fastifyMetricsModule.default;

/**
 * A readiness check: resolves when the dependency is usable, throws (or resolves false) when not; resolves
 * 'unknown' when it cannot tell because something it needs is down (that other check names the cause).
 */
export interface ReadinessCheck {
  (): Promise<unknown>;
  /** Reported (body, `dependency_up`) but never makes the instance unready: see reportOnly. */
  reportOnly?: boolean;
}

/**
 * Marks a check of a store every instance shares (Postgres, Redis) as reported, not gating. When a shared store
 * is down every instance is down with it: failing readiness would empty the Service at once and users would get
 * the ingress's generic 503 instead of this app's designed answers (503 + Retry-After, temporarily_unavailable
 * redirects). The outage shows in `dependency_up` and in the readiness body instead (docs/operations.md).
 */
export function reportOnly(check: () => Promise<unknown>): ReadinessCheck {
  return Object.assign(() => check(), { reportOnly: true });
}

export interface ObservabilityOptions {
  service: string;
  /** Named checks run by /health/ready, e.g. postgres, redis, migrations. */
  checks: Record<string, ReadinessCheck>;
  /** A check slower than this counts as failed: a hung dependency must not hang the probe. */
  checkTimeoutMs?: number;
}

/** Set by the entry point on SIGTERM: readiness answers 503 so load balancers stop sending before the listener closes. */
export class Readiness {
  draining = false;
  /** Set once the listener stopped accepting: every response closes its connection, so none is left idle to be cut. */
  closingConnections = false;
}

declare module 'fastify' {
  interface FastifyInstance {
    serviceMetrics: ServiceMetrics;
    readiness: Readiness;
  }
}

/** How long (ms) an idle keep-alive connection is kept open (Node's default, 5 s, is shorter than a gateway's). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

type CheckResult = 'ok' | 'failed' | 'timeout' | 'unknown';

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const run = check().then(
    (result): CheckResult => (result === false ? 'failed' : result === 'unknown' ? 'unknown' : 'ok'),
    (): CheckResult => 'failed',
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const HealthStatus = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['status'],
} as const;

async function observability(app: FastifyInstance, opts: ObservabilityOptions): Promise<void> {
  const metrics = createServiceMetrics(opts.service);
  const timeoutMs = opts.checkTimeoutMs ?? 2_000;
  app.decorate('serviceMetrics', metrics);
  app.decorate('readiness', new Readiness());

  await app.register(fastifyMetrics, {
    name: 'httpMetrics',
    promClient,
    // Served below from this app's own registry, never from the process-global one.
    endpoint: null,
    defaultMetrics: { enabled: true, register: metrics.registry },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      // Unmatched URLs share one label: a scanner must not create a time series per path.
      registeredRoutesOnly: false,
      invalidRouteGroup: '__unmatched__',
      routeBlacklist: ['/metrics', '/health/live', '/health/ready'],
      overrides: {
        histogram: {
          name: 'http_request_duration_seconds',
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers: [metrics.registry],
        },
        summary: { registers: [] },
      },
    },
  });

  const checkAll = async (): Promise<Record<string, CheckResult>> => {
    const names = Object.keys(opts.checks);
    const results = await Promise.all(
      names.map(async (name) => {
        const started = performance.now();
        const result = await runCheck(opts.checks[name] as ReadinessCheck, timeoutMs);
        // An unknown result is no news about this dependency: the one it waits on carries the 0.
        if (result === 'unknown') {
          metrics.dependencyUp.remove({ dependency: name });
        } else {
          metrics.dependencyUp.set({ dependency: name }, result === 'ok' ? 1 : 0);
          metrics.dependencyCheckSeconds.set({ dependency: name }, (performance.now() - started) / 1000);
        }
        return [name, result] as const;
      }),
    );
    return Object.fromEntries(results);
  };

  // Longer than any gateway's upstream keep-alive (nginx and cloud balancers: 60 s), so the gateway, never this
  // service, closes an idle connection: otherwise the gateway may send on a socket this side is closing.
  app.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node measures the header deadline from the connection's idle start: it must exceed keepAliveTimeout.
  app.server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  // Echoed so a partner or an operator can quote the id that every log line of this request carries.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Shutting down: the client must not reuse this connection, which is about to be closed.
    if (app.readiness.closingConnections) reply.header('connection', 'close');
  });

  const quiet = { logLevel: 'warn' as const, config: { disableMetrics: true } };

  // Liveness: the process answers. Never touches a dependency, so an outage does not restart every pod.
  app.get('/health/live', { ...quiet, schema: { response: { 200: HealthStatus } } }, async () => ({ status: 'ok' }));

  app.get('/health/ready', { ...quiet, schema: { response: { 200: HealthStatus, 503: HealthStatus } } }, async (_request, reply) => {
    if (app.readiness.draining) return reply.code(503).header('cache-control', 'no-store').send({ status: 'shutting_down' });
    const checks = await checkAll();
    const gating = Object.entries(checks).filter(([name]) => !opts.checks[name]?.reportOnly);
    const ready = gating.every(([, result]) => result === 'ok');
    const allOk = Object.values(checks).every((result) => result === 'ok');
    return reply
      .code(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ready ? (allOk ? 'ok' : 'degraded') : 'unavailable', checks });
  });

  // Not public: the gateway and the Ingress route only the OAuth paths; Prometheus scrapes the pod port.
  app.get('/metrics', quiet, async (_request, reply) => {
    await checkAll();
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  });
}

export const observabilityPlugin = fp(observability, { name: 'partner-oauth-observability', fastify: '5.x' });
