// Health and metrics for every service: /health/live, /health/ready (dependency checks, 503 while draining) and /metrics.
import * as promClient from '@prometheus-io/client';
import type { FastifyInstance } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import fp from 'fastify-plugin';
import type { LogRequests } from './logging.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';

// A CommonJS module whose plugin is its `default` property: Node's ESM import hands over module.exports.
const fastifyMetrics = fastifyMetricsModule.default;

/** A readiness check: resolves when the dependency is usable, throws (or resolves false) when not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface ObservabilityOptions {
  service: string;
  /** Named checks run by /health/ready, e.g. postgres, redis, migrations. */
  checks: Record<string, ReadinessCheck>;
  /** A check slower than this counts as failed: a hung dependency must not hang the probe. */
  checkTimeoutMs?: number;
  /** Per-request log lines (LOG_REQUESTS): every request, server errors only (the default), or none. */
  logRequests?: LogRequests;
}

/** Set by the entry point on SIGTERM: readiness answers 503 so load balancers stop sending before the listener closes. */
export class Readiness {
  draining = false;
}

declare module 'fastify' {
  interface FastifyInstance {
    serviceMetrics: ServiceMetrics;
    readiness: Readiness;
  }
}

type CheckResult = 'ok' | 'failed' | 'timeout';

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const run = check().then(
    (result): CheckResult => (result === false ? 'failed' : 'ok'),
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
        metrics.dependencyUp.set({ dependency: name }, result === 'ok' ? 1 : 0);
        metrics.dependencyCheckSeconds.set({ dependency: name }, (performance.now() - started) / 1000);
        return [name, result] as const;
      }),
    );
    return Object.fromEntries(results);
  };

  // Echoed so a partner or an operator can quote the id that every log line of this request carries.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  /*
   * One line per request, when it is answered (Fastify's own pair, "incoming request" then "request completed", is
   * turned off in baseServerOptions). Through request.log, so it carries the request id; a 5xx is logged at error.
   */
  const mode = opts.logRequests ?? 'errors';
  if (mode !== 'off') {
    app.addHook('onResponse', async (request, reply) => {
      const failed = reply.statusCode >= 500;
      if (mode === 'errors' && !failed) return;
      const line = { req: request, res: reply, responseTime: reply.elapsedTime };
      if (failed) request.log.error(line, 'request completed');
      else request.log.info(line, 'request completed');
    });
  }

  const quiet = { logLevel: 'warn' as const, config: { disableMetrics: true } };

  // Liveness: the process answers. Never touches a dependency, so an outage does not restart every pod.
  app.get('/health/live', { ...quiet, schema: { response: { 200: HealthStatus } } }, async () => ({ status: 'ok' }));

  app.get('/health/ready', { ...quiet, schema: { response: { 200: HealthStatus, 503: HealthStatus } } }, async (_request, reply) => {
    if (app.readiness.draining) return reply.code(503).header('cache-control', 'no-store').send({ status: 'shutting_down' });
    const checks = await checkAll();
    const ok = Object.values(checks).every((r) => r === 'ok');
    return reply
      .code(ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ok ? 'ok' : 'unavailable', checks });
  });

  // Not public: the gateway and the Ingress route only the OAuth paths; Prometheus scrapes the pod port.
  app.get('/metrics', quiet, async (_request, reply) => {
    await checkAll();
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  });
}

export const observabilityPlugin = fp(observability, { name: 'partner-oauth-observability', fastify: '5.x' });
