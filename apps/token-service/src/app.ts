// Builds the token-service Fastify app from its dependencies; tests and server.ts both call this.
import formbody from '@fastify/formbody';
import { CodeStore, type EphemeralStore, FailureThrottle } from '@partner-oauth/ephemeral-store';
import { type Clock, createServiceApp, reportOnly, systemClock } from '@partner-oauth/service-kit';
import { ActiveTokenReader, type Db, databaseChecks, RotationBatcher, TokenIssueBatcher, TokenStateReader } from '@partner-oauth/storage';
import { startRemovalNotifier, webhookAllowsLoopback } from '@partner-oauth/webhooks';
import type { FastifyInstance } from 'fastify';
import { CredentialCache } from './client-auth.js';
import type { TokenServiceConfig } from './config.js';
import errors from './plugins/errors.js';
import { startRetention } from './retention.js';
import authorizationRoutes from './routes/authorization.js';
import introspectRoutes from './routes/introspect.js';
import metadataRoutes from './routes/metadata.js';
import revokeRoutes from './routes/revoke.js';
import tokenRoutes from './routes/token.js';
import tokenInfoRoutes from './routes/token-info.js';
import { UsageRecorder } from './usage.js';
import { registerWebhookBacklog } from './webhook-metrics.js';

export interface TokenServiceDeps {
  config: TokenServiceConfig;
  db: Db;
  store: EphemeralStore;
  /** The clock of codes, throttles, the retention sweep and webhook backoff; tests pass a FakeClock. */
  clock?: Clock;
  /** Overrides the configured logger (tests pass false or a capturing stream). */
  logger?: boolean | Record<string, unknown>;
}

export async function buildApp(deps: TokenServiceDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const app = await createServiceApp({
    service: 'token-service',
    config,
    checks: { ...databaseChecks(deps.db), redis: reportOnly(() => deps.store.ping()) },
    logger: deps.logger,
  });
  registerWebhookBacklog(app.serviceMetrics, deps.db, clock);
  await app.register(errors);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  const codes = new CodeStore(deps.store, clock, config.CODE_TTL_SECONDS * 1000);
  const throttles = {
    clientAuth: new FailureThrottle(deps.store, 'client-auth', config.CLIENT_AUTH_FAILURES_PER_MINUTE, 60_000),
    grants: new FailureThrottle(deps.store, 'invalid-grant', config.INVALID_GRANTS_PER_MINUTE, 60_000),
  };
  const usage = new UsageRecorder(deps.db, clock, app.log);
  // One per app: the exchanges this instance has in flight share its calls (group commit, issue 13).
  const tokenIssues = new TokenIssueBatcher(deps.db);
  const rotations = new RotationBatcher(deps.db);
  // The code exchange trusts a cached credential match: its write re-checks the matched secret and the client.
  const credentials = new CredentialCache();
  await app.register(tokenRoutes, { db: deps.db, tokenIssues, rotations, codes, clock, throttles, usage, credentials });
  await app.register(revokeRoutes, { db: deps.db, clock, throttles });
  // Introspection answers without the client's and app's names: its lookups skip the app's row.
  await app.register(introspectRoutes, { db: deps.db, tokens: new TokenStateReader(deps.db), issuer: config.ISSUER, clock, usage });
  const tokens = new ActiveTokenReader(deps.db);
  await app.register(tokenInfoRoutes, { tokens, clock, usage });
  await app.register(authorizationRoutes, { db: deps.db, tokens, clock });
  await app.register(metadataRoutes, { issuer: config.ISSUER, tokenServiceUrl: config.TOKEN_SERVICE_PUBLIC_URL });

  if (config.WEBHOOK_WORKER) {
    // Removal notifications leave from the outbox; any number of instances may run this.
    let notifier: ReturnType<typeof startRemovalNotifier> | undefined;
    const outbox = { outbox: 'webhook_deliveries' };
    // The retention sweep rides along; an advisory lock lets one instance sweep at a time.
    let sweeper: ReturnType<typeof startRetention> | undefined;
    app.addHook('onReady', async () => {
      sweeper = startRetention(deps.db, config, clock, app.log, app.serviceMetrics);
      notifier = startRemovalNotifier({
        db: deps.db,
        signingKey: config.WEBHOOK_SIGNING_KEY,
        logger: app.log,
        onOutcome: (outcome) => app.serviceMetrics.webhookDeliveries.inc({ outcome }),
        maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        allowLoopback: webhookAllowsLoopback(config),
        clock,
        onHealthChange: (up) => app.serviceMetrics.webhookWorkerUp.set(outbox, up ? 1 : 0),
      });
      app.serviceMetrics.webhookWorkerUp.set(outbox, 1);
    });
    app.addHook('onClose', async () => {
      await Promise.all([notifier?.stop(), sweeper?.stop()]);
    });
  }
  return app;
}
