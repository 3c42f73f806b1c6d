// authorize-ui built by its buildApp on the file's own database and Redis prefix.
import { CodeStore } from '@partner-oauth/ephemeral-store';
import type { Clock } from '@partner-oauth/service-kit';
import { type AppHarness, useApp as useTestApp } from '@partner-oauth/test-support/app';
import { buildApp, loadAuthorizeUiConfig } from '../src/index.js';

export interface AuthorizeUiHarness extends AppHarness {
  /** Codes as the app writes them, on its Redis prefix and clock. */
  codes: CodeStore;
}

export interface AuthorizeUiOptions {
  /** Settings over the tests' defaults (NODE_ENV=test, silent logs). */
  env?: Record<string, string>;
  clock?: Clock;
}

export function useApp(options: AuthorizeUiOptions = {}): AuthorizeUiHarness {
  return useTestApp<AuthorizeUiHarness>({
    redis: true,
    build: ({ t, redis }) =>
      buildApp({
        config: loadAuthorizeUiConfig({ DATABASE_URL: t.url, REDIS_URL: redis.url, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...options.env }),
        db: t.db,
        store: redis.store,
        logger: false,
        clock: options.clock,
      }),
    extend: ({ redis }) => ({ codes: new CodeStore(redis.store, options.clock) }),
  });
}
