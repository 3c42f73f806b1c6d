// Browser test support: the services as processes (as tests/e2e starts them), Chromium from Debian, axe and screenshots.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createTestRedis, type TestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { freePort, ROOT, type Service, startProcess, stopProcess } from '@partner-oauth/test-support/processes';
import { DEV_WEBHOOK_SIGNING_KEY, webhookSigningSecret } from '@partner-oauth/webhooks';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject } from 'vitest';

export { freePort, type Service, startProcess, stopProcess } from '@partner-oauth/test-support/processes';
export const ARTIFACTS = `${ROOT}test-artifacts/browser`;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Debian's Chromium, headless; nothing is downloaded. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Fails the test on any page error or CSP violation reported to the console. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()))
      problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  return problems;
}

/**
 * axe-core on the current page: no serious or critical violation. It is evaluated through the
 * DevTools protocol, which the page's strict CSP does not govern, so no bypassCSP is needed.
 */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: { target: unknown }) => n.target) }));
  });
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}

/** Saves the page at phone (390px) and desktop (1280px) width, then checks it with axe at both. */
export async function capture(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const [label, width] of [
    ['phone', 390],
    ['desktop', 1280],
  ] as const) {
    await page.setViewportSize({ width, height: label === 'phone' ? 844 : 800 });
    await page.screenshot({ path: `${ARTIFACTS}/${name}-${label}.png`, fullPage: true });
    await expectAccessible(page);
  }
}

export interface Deployment {
  /** The file's own database and Redis prefix. */
  t: TestDatabase;
  redis: TestRedis;
  chromium: Browser;
  /** authorize-ui's origin (the issuer). */
  ui: string;
  /** token-service's origin, when a partner runs. */
  tokenUrl: string;
  /** Shoplifter's origin, when a partner runs. */
  shoplifter: string;
}

export interface DeploymentOptions {
  /** Runs token-service and Shoplifter as this client too (its registration follows Shoplifter's port); else authorize-ui alone. */
  partner?: 'shoplifter' | 'shoplifter-rotating';
  /** Settings over the services' test defaults. */
  env?: Record<string, string>;
  /** What the database must hold before the services start, knowing their addresses. */
  prepare?: (t: TestDatabase, deployment: Pick<Deployment, 'ui' | 'tokenUrl' | 'shoplifter'>) => Promise<void>;
}

/**
 * The product as processes on the file's own stores, with Chromium: authorize-ui, and with a partner token-service and
 * Shoplifter, started as tests/e2e starts them. Registers beforeAll/afterAll; read the fields inside tests and hooks.
 */
export function useDeployment(options: DeploymentOptions = {}): Deployment {
  const d = {} as Deployment;
  const services: Service[] = [];
  beforeAll(async () => {
    d.t = await createTestDatabase(inject('templateDatabase'));
    d.redis = createTestRedis();
    const [uiPort, tokenPort, partnerPort] = [await freePort(), await freePort(), await freePort()];
    d.ui = `http://127.0.0.1:${uiPort}`;
    d.tokenUrl = `http://127.0.0.1:${tokenPort}`;
    d.shoplifter = `http://127.0.0.1:${partnerPort}`;
    const { partner } = options;
    if (partner) {
      // Shoplifter listens on a free port here, so its registration follows it.
      await d.t.db
        .updateTable('clients')
        .set({ redirect_uris: [`${d.shoplifter}/callback`], client_uri: d.shoplifter, remove_url: `${d.shoplifter}/removed` })
        .where('client_id', '=', partner)
        .execute();
    }
    await options.prepare?.(d.t, d);
    const env = {
      DATABASE_URL: d.t.url,
      REDIS_URL: d.redis.url,
      REDIS_KEY_PREFIX: d.redis.keyPrefix,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ISSUER: d.ui,
      LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
      ...options.env,
    };
    const starts: Promise<Service>[] = [
      startProcess('authorize-ui', ['node', 'apps/authorize-ui/dist/server.js'], { ...env, PORT: String(uiPort) }, [d.ui]),
    ];
    if (partner) {
      starts.push(
        startProcess('token-service', ['node', 'apps/token-service/dist/server.js'], { ...env, PORT: String(tokenPort) }, [d.tokenUrl]),
        startProcess(
          partner,
          ['node', 'examples/shoplifter/dist/server.js'],
          {
            // token-service runs with the development signing key; Shoplifter gets the secret the registry would have shown.
            WEBHOOK_SECRET: webhookSigningSecret(DEV_WEBHOOK_SIGNING_KEY, partner, 1),
            PORT: String(partnerPort),
            AUTHORIZE_URL: `${d.ui}/oauth/authorize`,
            TOKEN_URL: `${d.tokenUrl}/oauth/token`,
            CLIENT_ID: partner,
            CLIENT_SECRET: 'secret',
          },
          [d.shoplifter],
        ),
      );
    }
    const [browser, ...started] = await Promise.all([launchChromium(), ...starts]);
    d.chromium = browser;
    services.push(...started);
  }, 60_000);
  afterAll(async () => {
    await d.chromium?.close();
    await Promise.all(services.map(stopProcess));
    await d.redis?.cleanup();
    await d.t?.drop();
  });
  return d;
}
