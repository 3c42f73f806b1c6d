// The consent experience in Chromium: from Shoplifter's button to a connected app, and back out again.
import { DEV_WEBHOOK_SIGNING_KEY, signWebhook, webhookSigningSecret } from '@partner-oauth/webhooks';
import type { Page } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capture, useDeployment, watchConsole } from './support.js';

let page: Page;
let problems: string[];
// token-service runs with the development signing key here; Shoplifter gets the secret the registry would have shown.
const webhookSecret = webhookSigningSecret(DEV_WEBHOOK_SIGNING_KEY, 'shoplifter', 1);
const ada = { acmeSales: '', acmeSupport: '' };
const d = useDeployment({
  partner: 'shoplifter',
  prepare: async (t, { shoplifter }) => {
    await t.db
      .updateTable('clients')
      .set({ policy_uri: `${shoplifter}/privacy`, tos_uri: `${shoplifter}/terms` })
      .where('client_id', '=', 'shoplifter')
      .execute();
    const apps = await t.db.selectFrom('apps').select(['id', 'name']).execute();
    ada.acmeSales = apps.find((a) => a.name === 'Acme Sales')?.id ?? '';
    ada.acmeSupport = apps.find((a) => a.name === 'Acme Support')?.id ?? '';
  },
});
/** Removal notices delivered (2xx from Shoplifter) for an app. */
const delivered = async (appId: string) =>
  (await d.t.db.selectFrom('webhook_deliveries').select('status').where('app_id', '=', appId).where('status', '=', 'delivered').execute())
    .length;

beforeEach(async () => {
  const context = await d.chromium.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  problems = watchConsole(page);
});

afterEach(async () => {
  await page.context().close();
  expect(problems).toEqual([]);
});

async function signIn(email: string, password: string): Promise<void> {
  await expect.poll(() => page.title()).toBe('Sign in · Smooch');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function startAtShoplifter(): Promise<void> {
  await page.goto(d.shoplifter);
  await page.getByRole('link', { name: 'Add to Smooch' }).click();
}

const heading = () => page.getByRole('heading', { level: 1 }).textContent();

describe('an app owner adds Shoplifter', () => {
  it('several apps: button, sign in, pick an app, Allow, connected; then removed from Connected integrations', async () => {
    await page.goto(d.shoplifter);
    await capture(page, 'shoplifter-home');
    await page.getByRole('link', { name: 'Add to Smooch' }).click();
    // Sign-in says who is asking (issue 15 item 4).
    expect(await heading()).toBe('Sign in to Smooch to continue to Shoplifter');
    await capture(page, 'login');
    await signIn('ada@example.com', 'lovelace-1815');

    expect(await heading()).toBe('Choose an app for Shoplifter');
    await capture(page, 'pick-app');
    await page.getByLabel('Acme Sales').check();
    await page.getByRole('button', { name: 'Continue' }).click();

    expect(await heading()).toBe('Shoplifter wants access to Acme Sales');
    await expect.poll(() => page.getByText('Afterwards you will be sent to 127.0.0.1').count()).toBe(1);
    await capture(page, 'consent');
    // "Choose another app" goes back to the picker with the same request.
    await page.getByRole('link', { name: 'Choose another app' }).click();
    expect(await heading()).toBe('Choose an app for Shoplifter');
    await page.getByLabel('Acme Sales').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();

    expect(page.url()).toBe(`${d.shoplifter}/`);
    expect(await heading()).toBe('Connected to Acme Sales');
    await capture(page, 'shoplifter-connected');
    expect(await page.evaluate(() => fetch('/status').then((r) => r.json()))).toEqual({ connected: true, tokenWorks: true });

    // The same account, in Connected integrations: remove Shoplifter from Acme Sales.
    await page.goto(`${d.ui}/integrations`);
    expect(await heading()).toBe('Connected integrations');
    await expect.poll(() => page.getByText(/^Connected since /).count()).toBe(1);
    await capture(page, 'integrations');
    await page.getByRole('button', { name: 'Remove Shoplifter from Acme Sales' }).click();
    // A confirmation step first (issue 15 item 8): nothing is removed until it is confirmed.
    expect(await heading()).toBe('Remove Shoplifter from Acme Sales?');
    await capture(page, 'integrations-confirm-removal');
    await page.getByRole('button', { name: 'Remove access' }).click();
    expect(await page.getByRole('status').textContent()).toBe('Shoplifter no longer has access to Acme Sales.');
    await capture(page, 'integrations-removed');

    // The signed removal notice reaches Shoplifter's remove_url, which forgets the connection: it no longer claims one.
    await page.goto(d.shoplifter);
    await expect.poll(() => page.evaluate(() => fetch('/status').then((r) => r.json())), { timeout: 20_000 }).toEqual({ connected: false });
    await page.reload();
    expect(await heading()).toBe('Your store’s orders, in your conversations');
    await expect.poll(() => delivered(ada.acmeSales)).toBe(1);
  }, 60_000);

  it('one app: straight to consent; Deny sends the browser back to Shoplifter not connected', async () => {
    await startAtShoplifter();
    await signIn('grace@example.com', 'hopper-1906');
    expect(await heading()).toBe('Shoplifter wants access to Grace Shop');
    expect(await page.getByRole('link', { name: 'Choose another app' }).count()).toBe(0);
    // The demo partner's privacy policy and terms, as registered, are served by Shoplifter itself.
    for (const [name, path, title] of [
      ['Privacy policy', '/privacy', 'Shoplifter’s privacy policy'],
      ['Terms of service', '/terms', 'Shoplifter’s terms'],
    ] as const) {
      const href = await page.getByRole('link', { name }).getAttribute('href');
      expect(href).toBe(`${d.shoplifter}${path}`);
      const res = await fetch(href as string);
      expect([res.status, (await res.text()).includes(`<h1>${title}</h1>`)]).toEqual([200, true]);
    }
    await page.getByRole('button', { name: 'Deny' }).click();
    expect(page.url()).toBe(
      `${d.shoplifter}/callback?${new URLSearchParams({ error: 'access_denied', state: new URL(page.url()).searchParams.get('state') ?? '', iss: d.ui })}`,
    );
    expect(await heading()).toBe('Not connected');
    expect(await page.getByText('You chose not to connect Shoplifter.').count()).toBe(1);
    await capture(page, 'shoplifter-denied');
  });

  it('no app: told so, with no Allow button', async () => {
    await startAtShoplifter();
    await signIn('nobody@example.com', 'nobody-0000');
    expect(await heading()).toBe('You have no app yet');
    expect(await page.getByRole('button', { name: 'Allow' }).count()).toBe(0);
    await capture(page, 'no-app');
  });

  it('keyboard only: sign in, Allow, connected, then Disconnect', async () => {
    await startAtShoplifter();
    await expect.poll(() => page.title()).toBe('Sign in · Smooch');
    await page.waitForLoadState('load');
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('id') ?? document.activeElement?.textContent?.trim());
    // Skip link, the brand, then the form in reading order.
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('email');
    await page.keyboard.type('grace@example.com');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('password');
    await page.keyboard.type('hopper-1906');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sign in');
    await page.keyboard.press('Enter');

    await expect.poll(heading).toBe('Shoplifter wants access to Grace Shop');
    await page.waitForLoadState('load');
    // The focus ring is visible on the focused control.
    const order: string[] = [];
    for (let i = 0; i < 12 && (await focused()) !== 'Allow'; i++) {
      await page.keyboard.press('Tab');
      order.push(String(await focused()));
    }
    expect(order.slice(-2)).toEqual(['Deny', 'Allow']);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');

    await expect.poll(heading).toBe('Connected to Grace Shop');
    await page.waitForLoadState('load');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Disconnect');
    await page.keyboard.press('Enter');
    await expect.poll(heading).toBe('Your store’s orders, in your conversations');
  });
});

describe('Shoplifter after a removal', () => {
  async function connect(app: string): Promise<void> {
    await startAtShoplifter();
    await signIn('ada@example.com', 'lovelace-1815');
    await page.getByLabel(app).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    expect(await heading()).toBe(`Connected to ${app}`);
  }
  const status = () => page.evaluate(() => fetch('/status').then((r) => r.json()));
  const postNotice = (signature: string, body: string) =>
    page.evaluate(
      ([signature, body]) =>
        fetch('/removed', { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-signature': signature }, body }).then(
          (r) => r.status,
        ),
      [signature, body] as const,
    );

  it('refuses a removal notice that is not signed with its webhook secret, and keeps the connection', async () => {
    await connect('Acme Support');
    const body = JSON.stringify({ type: 'authorization.removed', id: 'forged-1', client_id: 'shoplifter', app_id: ada.acmeSupport });
    const t = Math.floor(Date.now() / 1000);
    expect(await postNotice(signWebhook('whsec_not-ours', t, body), body)).toBe(401);
    expect(await postNotice('', body)).toBe(401);
    // Signed with the right secret but five minutes and more old: a replay.
    expect(await postNotice(signWebhook(webhookSecret, t - 301, body), body)).toBe(401);
    expect(await status()).toEqual({ connected: true, tokenWorks: true });
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await expect.poll(heading).toBe('Your store’s orders, in your conversations');
  });

  it('without a notice (none registered), checks its token with /v2/tokenInfo before claiming a connection', async () => {
    await d.t.db.updateTable('clients').set({ remove_url: null }).where('client_id', '=', 'shoplifter').execute();
    try {
      await connect('Acme Support');
      await page.goto(`${d.ui}/integrations`);
      await page.getByRole('button', { name: 'Remove Shoplifter from Acme Support' }).click();
      await page.getByRole('button', { name: 'Remove access' }).click();
      await page.goto(d.shoplifter);
      // The home page asked the platform, was told the token is dead, and forgot it.
      expect(await heading()).toBe('Your store’s orders, in your conversations');
      expect(await status()).toEqual({ connected: false });
    } finally {
      await d.t.db
        .updateTable('clients')
        .set({ remove_url: `${d.shoplifter}/removed` })
        .where('client_id', '=', 'shoplifter')
        .execute();
    }
  });
});

describe('pages that stop the flow', () => {
  it('unknown partner, bad redirect address, expired request, failed sign-in, signed out', async () => {
    await page.goto(`${d.ui}/oauth/authorize?client_id=ghost&response_type=code`);
    expect(await heading()).toBe('Unknown partner');
    await capture(page, 'error-unknown-partner');

    await page.goto(
      `${d.ui}/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
    );
    expect(await heading()).toBe('Invalid redirect address');
    await capture(page, 'error-bad-redirect');

    await page.goto(`${d.ui}/login`);
    await signIn('ada@example.com', 'wrong-password');
    expect(await page.getByRole('alert').textContent()).toBe('Email or password is incorrect.');
    await capture(page, 'login-failed');

    await signIn('ada@example.com', 'lovelace-1815');
    await page.goto(`${d.ui}/oauth/consent?request_id=gone&app_id=x`);
    expect(await heading()).toBe('This request has expired');
    await capture(page, 'error-expired');

    await page.goto(`${d.ui}/`);
    await capture(page, 'home');
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await heading()).toBe('You are signed out');
    await capture(page, 'signed-out');
  });
});
