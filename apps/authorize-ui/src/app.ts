// Builds the authorize-ui Fastify app from its dependencies; tests and server.ts both call this.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { OAuthError } from '@partner-oauth/contracts';
import { CodeStore, type EphemeralStore } from '@partner-oauth/ephemeral-store';
import {
  baseServerOptions,
  type Clock,
  isStoreUnavailable,
  observabilityPlugin,
  reportOnly,
  systemClock,
  UNAVAILABLE_RETRY_AFTER_SECONDS,
  validatorCompiler,
} from '@partner-oauth/service-kit';
import { type Db, databaseChecks } from '@partner-oauth/storage';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { AuthRequestStore, redirectToPartner } from './auth-requests.js';
import { type AuthorizeUiConfig, servedOverTls } from './config.js';
import { errorPages, PageError, sendErrorPage } from './pages.js';
import browser, { pageLocals } from './plugins/browser.js';
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
  clock?: Clock;
  logger?: boolean | Record<string, unknown>;
}

export async function buildApp(deps: AuthorizeUiDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify(
    baseServerOptions({
      logLevel: config.LOG_LEVEL,
      service: 'authorize-ui',
      trustProxy: config.TRUST_PROXY,
      logFormat: config.LOG_FORMAT,
      logger: deps.logger,
    }),
  ).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Before the browser plugin: probes and scrapes carry no session, CSRF or rate limit.
  await app.register(observabilityPlugin, {
    service: 'authorize-ui',
    logRequests: config.LOG_REQUESTS,
    checks: { ...databaseChecks(deps.db), redis: reportOnly(() => deps.store.ping()) },
  });
  await app.register(browser, { config, store: deps.store, clock });

  app.setErrorHandler((err: FastifyError | PageError | OAuthError, request, reply) => {
    if (err instanceof PageError) return sendErrorPage(reply, err.page, err.detail);
    // RFC 6749 §4.1.2.1: once client and redirect URI are known good, the partner hears of the error.
    if (err instanceof OAuthError && request.authorizationResponse) {
      return redirectToPartner(request, reply, config.ISSUER, request.authorizationResponse, {
        error: err.error,
        error_description: err.message || undefined,
      });
    }
    if (err instanceof OAuthError) return sendErrorPage(reply, errorPages.invalidRequest);
    if (isStoreUnavailable(err)) {
      request.log.warn({ reason: err.message }, 'store unavailable');
      // The session cannot be saved now; without this, onSend would try again and fail past this handler.
      (request as { session?: unknown }).session = undefined;
      reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      const target = request.authorizationResponse;
      if (target) return redirectToPartner(request, reply, config.ISSUER, target, { error: 'temporarily_unavailable' });
      // The session is loaded before the page's language is chosen: a failure there leaves none.
      if (!reply.locals?.t) reply.locals = pageLocals(request);
      return sendErrorPage(reply, errorPages.unavailable);
    }
    const status = err.statusCode ?? 500;
    if (status === 403 && err.code?.startsWith('FST_CSRF')) return sendErrorPage(reply, errorPages.forbidden);
    if (status === 429) return sendErrorPage(reply, errorPages.tooManyAttempts);
    if (status < 500) {
      return sendErrorPage(reply, status === 413 ? errorPages.tooLarge : errorPages.invalidRequest);
    }
    request.log.error({ err }, 'request failed');
    return sendErrorPage(reply, errorPages.serverError);
  });
  app.setNotFoundHandler((_request, reply) => sendErrorPage(reply, errorPages.notFound));

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
