// Builds the client-registry Fastify app from its dependencies; tests and server.ts both call this.
import { type Clock, createServiceApp, systemClock } from '@partner-oauth/service-kit';
import { type Db, databaseChecks } from '@partner-oauth/storage';
import { webhookAllowsLoopback } from '@partner-oauth/webhooks';
import type { FastifyInstance } from 'fastify';
import type { ClientRegistryConfig } from './config.js';
import adminAuth from './plugins/admin-auth.js';
import errors from './plugins/errors.js';
import openapi from './plugins/openapi.js';
import adminKeyRoutes from './routes/admin-keys.js';
import auditRoutes from './routes/audit-log.js';
import buttonRoutes from './routes/button.js';
import authorizationRoutes from './routes/client-authorizations.js';
import secretRoutes from './routes/client-secrets.js';
import clientRoutes from './routes/clients.js';
import resourceServerRoutes from './routes/resource-servers.js';

export interface ClientRegistryDeps {
  config: ClientRegistryConfig;
  db: Db;
  /** The clock of secret expiries and last-used records; tests pass a FakeClock. */
  clock?: Clock;
  /** Overrides the configured logger (tests pass false or a capturing stream). */
  logger?: boolean | Record<string, unknown>;
}

export async function buildApp(deps: ClientRegistryDeps): Promise<FastifyInstance> {
  const { config, db } = deps;
  const clock = deps.clock ?? systemClock;
  // Health and metrics answer without credentials; /metrics is kept off the public gateway (infra/).
  const app = await createServiceApp({
    service: 'client-registry',
    config,
    checks: databaseChecks(db),
    logger: deps.logger,
    // Before every route, health and metrics included: each gets the JSON error handler, and OpenAPI's onRoute hook
    // documents each of them.
    first: async (app) => {
      await app.register(errors);
      await app.register(openapi);
    },
  });
  // The admin API speaks JSON only; Fastify's default text/plain parser would turn a typo'd request into a confusing 400.
  app.removeContentTypeParser('text/plain');

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
