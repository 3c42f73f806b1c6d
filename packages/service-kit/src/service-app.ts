// The preamble every app's buildApp starts with: Fastify with the shared server options and validator, health and metrics.
import Fastify, { type FastifyInstance } from 'fastify';
import { baseServerOptions, type LogRequests } from './logging.js';
import { observabilityPlugin, type ReadinessCheck } from './observability.js';
import { validatorCompiler } from './validation.js';

/** The settings of CommonConfig the preamble reads. */
export interface ServiceAppConfig {
  LOG_LEVEL: string;
  LOG_FORMAT: 'json' | 'pretty';
  LOG_REQUESTS: LogRequests;
  TRUST_PROXY: string;
}

export interface ServiceAppOptions {
  service: string;
  config: ServiceAppConfig;
  /** Named readiness checks for /health/ready (databaseChecks(db), a store ping, ...). */
  checks: Record<string, ReadinessCheck>;
  /** Runs before any route is added, for a plugin whose onRoute hook must see every route (the admin API's OpenAPI). */
  first?: (app: FastifyInstance) => Promise<void>;
  /** A test's override of the configured logger: false for silence, or options laid over the service's. */
  logger?: boolean | Record<string, unknown> | undefined;
}

/**
 * A Fastify instance with the house's server options (logging, proxy trust, body limit, request ids), the TypeBox
 * validator, and the observability plugin (health, metrics, request lines) registered first, so probes and scrapes
 * pass before any session, CSRF or rate-limit hook an app adds afterwards.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<FastifyInstance> {
  const { config, service } = options;
  const app = Fastify(
    baseServerOptions({
      logLevel: config.LOG_LEVEL,
      service,
      trustProxy: config.TRUST_PROXY,
      logFormat: config.LOG_FORMAT,
      logger: options.logger,
    }),
  );
  app.setValidatorCompiler(validatorCompiler);
  await options.first?.(app);
  await app.register(observabilityPlugin, { service, logRequests: config.LOG_REQUESTS, checks: options.checks });
  return app;
}
