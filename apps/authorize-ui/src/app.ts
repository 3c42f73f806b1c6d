// Builds the authorize-ui Fastify app from its dependencies; tests and server.ts both call this.
import { CodeStore, type EphemeralStore } from '@partner-oauth/ephemeral-store';
import { type Clock, createServiceApp, reportOnly, systemClock } from '@partner-oauth/service-kit';
import { type Db, databaseChecks } from '@partner-oauth/storage';
import type { FastifyInstance } from 'fastify';
import { AuthRequestStore } from './auth-requests.js';
import { type AuthorizeUiConfig, servedOverTls } from './config.js';
import browser from './plugins/browser.js';
import errors from './plugins/errors.js';
import authorizeRoutes from './routes/authorize.js';
import consentRoutes from './routes/consent.js';
import decisionRoutes from './routes/decision.js';
import integrationRoutes from './routes/integrations.js';
import languageRoutes from './routes/language.js';
import loginRoutes from './routes/login.js';
import metadataRoutes from './routes/metadata.js';
import pickAppRoutes from './routes/pick-app.js';
import switchAccountRoutes from './routes/switch-account.js';

export interface AuthorizeUiDeps {
  config: AuthorizeUiConfig;
  db: Db;
  store: EphemeralStore;
  /** The clock of codes, sessions and sign-in throttles; tests pass a FakeClock. */
  clock?: Clock;
  /** Overrides the configured logger (tests pass false or a capturing stream). */
  logger?: boolean | Record<string, unknown>;
}

export async function buildApp(deps: AuthorizeUiDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  // The observability plugin comes first: probes and scrapes carry no session, CSRF or rate limit.
  const app = await createServiceApp({
    service: 'authorize-ui',
    config,
    checks: { ...databaseChecks(deps.db), redis: reportOnly(() => deps.store.ping()) },
    logger: deps.logger,
  });
  await app.register(browser, { config, store: deps.store, clock });
  await app.register(errors, { issuer: config.ISSUER });

  const codes = new CodeStore(deps.store, clock, config.CODE_TTL_SECONDS * 1000);
  const requests = new AuthRequestStore(deps.store, config.AUTH_REQUEST_TTL_SECONDS * 1000);
  await app.register(loginRoutes, { db: deps.db, store: deps.store, clock, config });
  await app.register(authorizeRoutes, { db: deps.db, requests, rateLimitPerMinute: config.AUTHORIZE_RATE_LIMIT_PER_MINUTE });
  await app.register(pickAppRoutes, { db: deps.db, requests });
  await app.register(consentRoutes, { db: deps.db, requests });
  await app.register(decisionRoutes, { db: deps.db, codes, requests, issuer: config.ISSUER });
  await app.register(switchAccountRoutes, { db: deps.db, requests });
  await app.register(integrationRoutes, { db: deps.db });
  await app.register(languageRoutes, { secureCookie: servedOverTls(config) });
  await app.register(metadataRoutes, { issuer: config.ISSUER, tokenServiceUrl: config.TOKEN_SERVICE_PUBLIC_URL });
  return app;
}
