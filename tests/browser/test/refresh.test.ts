// Shoplifter as shoplifter-rotating in Chromium (issue 14): connected with an expiring token, it refreshes the token before
// it expires and its page shows when the current one expires; the old refresh token is spent, the connection keeps working.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { capture, useDeployment, watchConsole } from './support.js';

/** Seconds: the demo's five minutes would make a person wait; the test waits a few seconds instead. */
const LIFETIME = 4;
const d = useDeployment({
  partner: 'shoplifter-rotating',
  prepare: async (t) => {
    await t.db.updateTable('clients').set({ access_token_lifetime: LIFETIME }).where('client_id', '=', 'shoplifter-rotating').execute();
  },
});

const expiryShown = async (page: Page) => (await page.locator('#token-expiry time').getAttribute('datetime')) ?? '';

describe('Shoplifter with expiring tokens', () => {
  it('connects, shows when its token expires, refreshes it before then, and stays connected', async () => {
    const context = await d.chromium.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(d.shoplifter);
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
    const status = await (await context.request.get(`${d.shoplifter}/status`)).json();
    expect(status).toMatchObject({ connected: true, tokenWorks: true, expiresAt: expect.any(String) });
    expect(Date.parse(status.expiresAt)).toBeGreaterThan(Date.parse(first));
    // The platform's view: the first refresh token is spent (rotated), one live token carries on, the authorization holds.
    const rows = await d.t.db
      .selectFrom('refresh_tokens')
      .select(['used_at', 'revoked_at'])
      .where('client_id', '=', 'shoplifter-rotating')
      .execute();
    expect(rows.filter((r) => r.used_at !== null).length).toBeGreaterThanOrEqual(1);
    expect(rows.filter((r) => r.used_at === null && r.revoked_at === null)).toHaveLength(1);

    // Disconnect revokes the refresh token (RFC 7009): the authorization ends.
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Add to Smooch' }).count()).toBe(1);
    const live = await d.t.db
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
