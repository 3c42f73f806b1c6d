// token-service built by its buildApp on the file's own database and Redis prefix, with the demo data's Shoplifter grant.
import { type CodeGrant, CodeStore } from '@partner-oauth/ephemeral-store';
import type { Clock } from '@partner-oauth/service-kit';
import type { TestDatabase } from '@partner-oauth/storage/testing';
import { type AppHarness, useApp as useTestApp } from '@partner-oauth/test-support/app';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp, loadTokenServiceConfig } from '../src/index.js';

/** HTTP Basic credentials, as partners and resource servers send them. */
export const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
/** The demo resource server's credentials, for introspection. */
export const PLATFORM_API = basic('platform-api', 'platform-api-secret');

export interface TokenServiceHarness extends AppHarness {
  /** POSTs an urlencoded form, as partners and resource servers do. */
  postForm(url: string, fields: Record<string, string>, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** Codes as authorize-ui writes them, on the app's Redis prefix and clock. */
  codes: CodeStore;
  /** Shoplifter's grant of `scope` on Ada's "Acme Sales" app, to mint codes from. */
  grant: CodeGrant;
}

export interface TokenServiceOptions {
  /** Settings over the tests' defaults (silent logs, no webhook worker). */
  env?: Record<string, string>;
  clock?: Clock;
  /** The grant's scope (default `app:read`). */
  scope?: string;
  /** What the database must hold before the app (and its worker) starts. */
  prepare?: (t: TestDatabase) => Promise<void>;
}

export function useApp(options: TokenServiceOptions = {}): TokenServiceHarness {
  return useTestApp<TokenServiceHarness>({
    redis: true,
    prepare: options.prepare,
    build: ({ t, redis }) =>
      buildApp({
        config: loadTokenServiceConfig({
          DATABASE_URL: t.url,
          REDIS_URL: redis.url,
          LOG_LEVEL: 'silent',
          WEBHOOK_WORKER: 'false',
          ...options.env,
        }),
        db: t.db,
        store: redis.store,
        logger: false,
        clock: options.clock,
      }),
    extend: ({ app, t, redis }) => ({
      postForm: (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
        app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          payload: new URLSearchParams(fields).toString(),
        }),
      codes: new CodeStore(redis.store, options.clock),
      grant: {
        clientId: 'shoplifter',
        appId: t.ids.apps['Acme Sales'] as string,
        accountId: t.ids.accounts['ada@example.com'] as string,
        redirectUri: 'http://localhost:4000/callback',
        redirectUriSent: false,
        scope: options.scope ?? 'app:read',
      },
    }),
  });
}
