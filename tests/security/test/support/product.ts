// The three apps built as they run, on this file's own database and Redis prefix, plus the flow steps attacks start from.
import { buildApp as buildAuthorizeUi, loadAuthorizeUiConfig } from '@partner-oauth/authorize-ui';
import { buildApp as buildRegistry, loadClientRegistryConfig } from '@partner-oauth/client-registry';
import { createTestRedis, type TestRedis } from '@partner-oauth/ephemeral-store/testing';
import { FakeClock, sha256 } from '@partner-oauth/service-kit';
import { createAdminKey, type Db } from '@partner-oauth/storage';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';

export { addTestClient as addClient } from '@partner-oauth/storage/testing';

import { Browser, hidden } from '@partner-oauth/test-support/browser';
import { buildApp as buildTokenService, loadTokenServiceConfig } from '@partner-oauth/token-service';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect, inject } from 'vitest';

export const ISSUER = 'http://localhost:3000';
export const CALLBACK = 'http://localhost:4000/callback';
export const ADMIN_TOKEN = 'security-suite-admin-token-0123456789abcdef';
export const SHOPLIFTER = { client_id: 'shoplifter', client_secret: 'secret' };
export const GRACE = { email: 'grace@example.com', password: 'hopper-1906' };
export const ADA = { email: 'ada@example.com', password: 'lovelace-1815' };

export type Env = Record<string, string>;
export type LoggerOption = false | Record<string, unknown>;

/** Limits are raised so only the tests about throttling meet them. */
export const uiEnv = (env: Env = {}): Env => ({
  NODE_ENV: 'test',
  ISSUER,
  LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
  AUTHORIZE_RATE_LIMIT_PER_MINUTE: '100000',
  LOGIN_FAILURES_PER_ACCOUNT: '100000',
  ...env,
});

export const tokenEnv = (env: Env = {}): Env => ({
  NODE_ENV: 'test',
  ISSUER,
  WEBHOOK_WORKER: 'false',
  CLIENT_AUTH_FAILURES_PER_MINUTE: '100000',
  INVALID_GRANTS_PER_MINUTE: '100000',
  ...env,
});

export interface Product {
  t: TestDatabase;
  redis: TestRedis;
  clock: FakeClock;
  ui: FastifyInstance;
  tokens: FastifyInstance;
  registry: FastifyInstance;
  /** Another authorize-ui (other settings) on the same database, with a Redis prefix of its own. */
  extraUi(env: Env): Promise<FastifyInstance>;
  /** Another token-service (other settings) on the same database and Redis prefix. */
  extraTokens(env: Env): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export async function startProduct(
  opts: { ui?: Env; tokens?: Env; registry?: Env; logger?: (service: string) => LoggerOption } = {},
): Promise<Product> {
  const t = await createTestDatabase(inject('templateDatabase'));
  const redis = createTestRedis();
  const clock = new FakeClock();
  const logger = opts.logger ?? (() => false);
  const closers: (() => Promise<unknown>)[] = [];
  const track = (app: FastifyInstance) => {
    closers.push(() => app.close());
    return app;
  };
  const ui = track(
    await buildAuthorizeUi({
      config: loadAuthorizeUiConfig(uiEnv(opts.ui)),
      db: t.db,
      store: redis.store,
      clock,
      logger: logger('authorize-ui'),
    }),
  );
  const tokens = track(
    await buildTokenService({
      config: loadTokenServiceConfig(tokenEnv(opts.tokens)),
      db: t.db,
      store: redis.store,
      clock,
      logger: logger('token-service'),
    }),
  );
  // The registry authenticates admins by a key stored as its hash (ADMIN_TOKEN in older builds): the suite provides both.
  await createAdminKey(t.db, { name: 'security-suite', keyHash: sha256(ADMIN_TOKEN) });
  const registry = track(
    await buildRegistry({
      config: loadClientRegistryConfig({ NODE_ENV: 'test', ADMIN_TOKEN, ...opts.registry }),
      db: t.db,
      logger: logger('client-registry'),
    }),
  );
  return {
    t,
    redis,
    clock,
    ui,
    tokens,
    registry,
    async extraUi(env) {
      const own = createTestRedis();
      closers.push(() => own.cleanup());
      return track(await buildAuthorizeUi({ config: loadAuthorizeUiConfig(uiEnv(env)), db: t.db, store: own.store, clock, logger: false }));
    },
    async extraTokens(env) {
      return track(
        await buildTokenService({ config: loadTokenServiceConfig(tokenEnv(env)), db: t.db, store: redis.store, clock, logger: false }),
      );
    },
    async close() {
      for (const close of closers.reverse()) await close();
      await redis.cleanup();
      await t.drop();
    },
  };
}

export async function signedIn(app: FastifyInstance, who = GRACE): Promise<Browser> {
  const browser = new Browser(app);
  const res = await browser.login(who.email, who.password);
  expect(res.statusCode).toBe(303);
  return browser;
}

export const authorizeUrl = (params: Record<string, string> = {}) =>
  `/oauth/authorize?${new URLSearchParams({ client_id: 'shoplifter', response_type: 'code', ...params }).toString()}`;

/** The consent page of a signed-in one-app account, and what its form carries. */
export async function consent(
  browser: Browser,
  params: Record<string, string> = {},
): Promise<{ requestId: string; appId: string; csrf: string; page: LightMyRequestResponse }> {
  const page = await browser.get(authorizeUrl(params));
  expect(page.statusCode).toBe(200);
  return { requestId: hidden(page.body, 'request_id'), appId: hidden(page.body, 'app_id'), csrf: hidden(page.body, '_csrf'), page };
}

/** Allows a request through the browser and returns the code from the redirect. */
export async function issueCode(browser: Browser, params: Record<string, string> = {}): Promise<string> {
  const { requestId, appId, csrf } = await consent(browser, params);
  const res = await browser.post('/oauth/decision', { _csrf: csrf, request_id: requestId, app_id: appId, decision: 'allow' });
  expect(res.statusCode).toBe(303);
  const code = new URL(String(res.headers.location)).searchParams.get('code');
  if (!code) throw new Error('no code in the redirect');
  return code;
}

export const form = (fields: Record<string, string | string[]>): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) p.append(k, x);
  return p.toString();
};

export function postForm(
  app: FastifyInstance,
  url: string,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: form(fields),
  });
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Redeems `code` as shoplifter. */
export const redeem = (tokens: FastifyInstance, code: string, extra: Record<string, string> = {}) =>
  postForm(tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...SHOPLIFTER, ...extra });

/** What GET /v2/tokenInfo says of a token: 200 while it works, 401 once it does not. */
export async function tokenInfoStatus(tokens: FastifyInstance, token: string): Promise<number> {
  const res = await tokens.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer ${token}` } });
  return res.statusCode;
}

/** RFC 7662 introspection by the platform's resource server. */
export async function introspect(tokens: FastifyInstance, token: string): Promise<unknown> {
  const res = await postForm(tokens, '/oauth/introspect', { token }, { authorization: basic('platform-api', 'platform-api-secret') });
  expect(res.statusCode).toBe(200);
  return res.json();
}

export async function countTokens(db: Db, codeHash?: string): Promise<number> {
  let query = db.selectFrom('access_tokens').select((eb) => eb.fn.countAll<string>().as('n'));
  if (codeHash !== undefined) query = query.where('code_hash', '=', codeHash);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** Keys of this file's Redis prefix matching `pattern` (e.g. `code:*`), without the prefix. */
export async function redisKeys(redis: TestRedis, pattern: string): Promise<string[]> {
  const keys = await redis.store.redis.keys(`${redis.keyPrefix}${pattern}`);
  return keys.map((k) => k.slice(redis.keyPrefix.length));
}

export function registryPost(registry: FastifyInstance, url: string, body: unknown) {
  return registry.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

/** Security headers every authorize-ui page must carry. */
export const CSP =
  "default-src 'none';style-src 'self';img-src 'self' https: data:;form-action 'self';frame-ancestors 'none';base-uri 'none'";
