// Builds the client-registry Fastify app: the one factory both the server and the tests call.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { baseServerOptions, type Clock, observabilityPlugin, systemClock, validatorCompiler } from '@partner-oauth/service-kit';
import { type Db, databaseChecks } from '@partner-oauth/storage';
import { webhookAllowsLoopback } from '@partner-oauth/webhooks';
import Fastify, { type FastifyInstance } from 'fastify';
import type { RegistryConfig } from './config.js';
import { registerErrorHandlers } from './errors.js';
import adminAuth from './plugins/admin-auth.js';
import openapi from './plugins/openapi.js';
import { adminKeyRoutes } from './routes/admin-keys.js';
import { auditRoutes } from './routes/audit-log.js';
import { buttonRoutes } from './routes/button.js';
import { authorizationRoutes } from './routes/client-authorizations.js';
import { secretRoutes } from './routes/client-secrets.js';
import { clientRoutes } from './routes/clients.js';
import { resourceServerRoutes } from './routes/resource-servers.js';

export interface AppDeps {
  config: RegistryConfig;
  db: Db;
  /** Overrides the pino options of baseServerOptions; tests pass `false`. */
  logger?: boolean | Record<string, unknown>;
  /** The clock of secret expiries and last-used records; tests pass a FakeClock. */
  clock?: Clock;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify(
    baseServerOptions({
      logLevel: config.LOG_LEVEL,
      service: 'client-registry',
      trustProxy: config.TRUST_PROXY,
      logFormat: config.LOG_FORMAT,
      logger: deps.logger,
    }),
  ).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // The admin API speaks JSON only; Fastify's default text/plain parser would turn a typo'd request into a confusing 400.
  app.removeContentTypeParser('text/plain');
  registerErrorHandlers(app);
  // Registered before the routes so its onRoute hook sees every one of them.
  await app.register(openapi);

  // Health and metrics answer without credentials; /metrics is kept off the public gateway (infra/).
  await app.register(observabilityPlugin, {
    service: 'client-registry',
    logRequests: config.LOG_REQUESTS,
    checks: databaseChecks(db),
  });

  // Everything registered in this scope sits behind an admin key; routes outside it are public by construction.
  await app.register(async (admin) => {
    await admin.register(adminAuth, { db, clock });
    await admin.register(clientRoutes, {
      db,
      webhookSigningKey: config.WEBHOOK_SIGNING_KEY,
      allowLoopbackRemoveUrl: webhookAllowsLoopback(config),
    });
    await admin.register(secretRoutes, { db, webhookSigningKey: config.WEBHOOK_SIGNING_KEY, clock });
    await admin.register(authorizationRoutes, { db });
    await admin.register(buttonRoutes, { db, issuer: config.ISSUER });
    await admin.register(auditRoutes, { db });
    await admin.register(adminKeyRoutes, { db });
    await admin.register(resourceServerRoutes, { db, clock });
  });

  return app;
}
