// Shoplifter as shoplifter-rotating in Chromium (issue 14): connected with an expiring token, it refreshes the token before
// it expires and its page shows when the current one expires; the old refresh token is spent, the connection keeps working.
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { DEV_WEBHOOK_SIGNING_KEY, webhookSigningSecret } from '@partner-oauth/webhooks';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { capture, freePort, launchChromium, type Service, startProcess, stopProcess, watchConsole } from './support.js';

let t: TestDatabase;
const redis = createTestRedis();
const services: Service[] = [];
let chromium: Browser;
let shoplifter: string;
/** Seconds: the demo's five minutes would make a person wait; the test waits a few seconds instead. */
const LIFETIME = 4;

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  const [uiPort, tokenPort, partnerPort] = [await freePort(), await freePort(), await freePort()];
  const ui = `http://127.0.0.1:${uiPort}`;
  shoplifter = `http://127.0.0.1:${partnerPort}`;
  await t.db
    .updateTable('clients')
    .set({
      redirect_uris: [`${shoplifter}/callback`],
      client_uri: shoplifter,
      remove_url: `${shoplifter}/removed`,
      access_token_lifetime: LIFETIME,
    })
    .where('client_id', '=', 'shoplifter-rotating')
    .execute();
  const env = {
    DATABASE_URL: t.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ISSUER: ui,
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
  };
  const [authorizeUi, tokenService, partner, browser] = await Promise.all([
    startProcess('authorize-ui', ['node', 'apps/authorize-ui/dist/server.js'], { ...env, PORT: String(uiPort) }, [ui]),
    startProcess('token-service', ['node', 'apps/token-service/dist/server.js'], { ...env, PORT: String(tokenPort) }, [
      `http://127.0.0.1:${tokenPort}`,
    ]),
    startProcess(
      'shoplifter-rotating',
      ['node', 'examples/shoplifter/dist/server.js'],
      {
        WEBHOOK_SECRET: webhookSigningSecret(DEV_WEBHOOK_SIGNING_KEY, 'shoplifter-rotating', 1),
        PORT: String(partnerPort),
        AUTHORIZE_URL: `${ui}/oauth/authorize`,
        TOKEN_URL: `http://127.0.0.1:${tokenPort}/oauth/token`,
        CLIENT_ID: 'shoplifter-rotating',
        CLIENT_SECRET: 'secret',
      },
      [shoplifter],
    ),
    launchChromium(),
  ]);
  services.push(authorizeUi, tokenService, partner);
  chromium = browser;
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await Promise.all(services.map(stopProcess));
  await redis.cleanup();
  await t.drop();
});

const expiryShown = async (page: Page) => (await page.locator('#token-expiry time').getAttribute('datetime')) ?? '';

describe('Shoplifter with expiring tokens', () => {
  it('connects, shows when its token expires, refreshes it before then, and stays connected', async () => {
    const context = await chromium.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(shoplifter);
    await page.getByRole('link', { name: 'Add to Smooch' }).click();
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill('hopper-1906');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Shoplifter (expiring tokens) wants access to Grace Shop');
    await page.getByRole('button', { name: 'Allow' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Connected to Grace Shop');

    const first = await expiryShown(page);
    expect(Date.parse(first) - Date.now()).toBeGreaterThan(0);
    expect(Date.parse(first) - Date.now()).toBeLessThanOrEqual(LIFETIME * 1000);
    expect(await page.locator('#token-expiry').textContent()).toMatch(
      /^Your current token expires at \d\d:\d\d:\d\d UTC \(in \d+ s\); Shoplifter refreshes it before then\.$/,
    );
    await capture(page, 'shoplifter-rotating-connected');

    // Shoplifter refreshes on its own before expiry (nobody needs to visit): a reload shows a new token, expiring later.
    await expect
      .poll(
        async () => {
          await page.reload();
          return expiryShown(page);
        },
        { timeout: (LIFETIME + 4) * 1000, interval: 500 },
      )
      .not.toBe(first);
    const second = await expiryShown(page);
    expect(Date.parse(second)).toBeGreaterThan(Date.parse(first));
    // Past the first token's expiry, the connection still works, on the refreshed token.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(first) - Date.now() + 200)));
    const status = await (await context.request.get(`${shoplifter}/status`)).json();
    expect(status).toMatchObject({ connected: true, tokenWorks: true, expiresAt: expect.any(String) });
    expect(Date.parse(status.expiresAt)).toBeGreaterThan(Date.parse(first));
    // The platform's view: the first refresh token is spent (rotated), one live token carries on, the authorization holds.
    const rows = await t.db
      .selectFrom('refresh_tokens')
      .select(['used_at', 'revoked_at'])
      .where('client_id', '=', 'shoplifter-rotating')
      .execute();
    expect(rows.filter((r) => r.used_at !== null).length).toBeGreaterThanOrEqual(1);
    expect(rows.filter((r) => r.used_at === null && r.revoked_at === null)).toHaveLength(1);

    // Disconnect revokes the refresh token (RFC 7009): the authorization ends.
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Add to Smooch' }).count()).toBe(1);
    const live = await t.db
      .selectFrom('authorizations')
      .select('id')
      .where('client_id', '=', 'shoplifter-rotating')
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    await context.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
