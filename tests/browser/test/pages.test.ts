// Every page in every language in Chromium (issue 15 items 4-10): axe finds no serious or critical violation, nothing
// overflows at 390 px, in light and dark; and what the items promise, seen in a real browser. Screenshots go to
// test-artifacts/browser/pages/.
import { mkdirSync } from 'node:fs';
import { sha256 } from '@partner-oauth/service-kit';
import { issueToken } from '@partner-oauth/storage';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, expectAccessible, useDeployment, watchConsole } from './support.js';

let removalId = '';
const SHOTS = `${ARTIFACTS}/pages`;
const LANGUAGES = ['en', 'fr', 'de', 'es', 'ja'] as const;
const AUTHORIZE = '/oauth/authorize?client_id=shoplifter&response_type=code&state=s1';

const d = useDeployment({
  env: { AUTHORIZE_RATE_LIMIT_PER_MINUTE: '10000' },
  prepare: async (t) => {
    await t.db
      .updateTable('clients')
      .set({ policy_uri: 'https://shoplifter.example/privacy', tos_uri: 'https://shoplifter.example/terms' })
      .where('client_id', '=', 'shoplifter')
      .execute();
    // Ada's Acme Support is connected, so Connected integrations and its removal page have something to show.
    const { authorizationId } = await issueToken(t.db, {
      clientId: 'shoplifter',
      appId: t.ids.apps['Acme Support'] as string,
      accountId: t.ids.accounts['ada@example.com'] as string,
      scope: 'app:read conversations:read conversations:write',
      tokenHash: sha256('poat_browser_pages'),
      codeHash: null,
    });
    removalId = authorizationId;
    await t.db
      .updateTable('authorizations')
      .set({ last_used_at: new Date('2026-11-30T07:42:00Z') })
      .where('id', '=', removalId)
      .execute();
    mkdirSync(SHOTS, { recursive: true });
  },
});

async function newPage(options: { lang?: string; colorScheme?: 'light' | 'dark'; width?: number } = {}) {
  const context = await d.chromium.newContext({
    viewport: { width: options.width ?? 390, height: 844 },
    colorScheme: options.colorScheme ?? 'light',
  });
  if (options.lang) await context.addCookies([{ name: 'lang', value: options.lang, url: d.ui }]);
  const page = await context.newPage();
  return { context, page, problems: watchConsole(page) };
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${d.ui}/login`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.locator('form.stack button[type=submit]').click();
  await page.waitForURL(`${d.ui}/`);
}

/** No horizontal scrolling: the page is no wider than the viewport. */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** axe, overflow at 390 px, and a screenshot, in light and dark. */
async function check(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width: 390, height: 844 });
    expect([name, scheme, await overflow(page)]).toEqual([name, scheme, 0]);
    await page.screenshot({ path: `${SHOTS}/${name}-${scheme}-phone.png`, fullPage: true });
    await expectAccessible(page);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `${SHOTS}/${name}-desktop.png`, fullPage: true });
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

describe('every page, in every language', () => {
  for (const lang of LANGUAGES) {
    it(`${lang}: sign-in, account, picker, consent, no app, integrations, removal, errors, signed out`, async () => {
      const { context, page, problems } = await newPage({ lang });
      try {
        const visit = async (name: string, url: string) => {
          await page.goto(`${d.ui}${url}`);
          expect(await page.getAttribute('html', 'lang')).toBe(lang);
          await check(page, `${lang}-${name}`);
        };
        await visit('login', '/login');
        await visit('login-for-partner', `/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
        await page.locator('#email').fill('ada@example.com');
        await page.locator('#password').fill('wrong-password');
        await page.locator('form.stack button[type=submit]').click();
        await page.waitForSelector('#login-error');
        await check(page, `${lang}-login-failed`);

        await signIn(page, 'ada@example.com', 'lovelace-1815');
        await check(page, `${lang}-home`);
        await visit('pick-app', AUTHORIZE);
        await page.locator('input[name=app_id]').first().check();
        await page.locator('form.stack button[type=submit]').click();
        await page.waitForURL(/\/oauth\/consent/);
        await check(page, `${lang}-consent`);
        await visit('integrations', '/integrations');
        await visit('remove', `/integrations/remove?authorization_id=${removalId}`);
        await visit('error-unknown-partner', '/oauth/authorize?client_id=ghost&response_type=code');
        await visit(
          'error-bad-redirect',
          `/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/a/very/long/path/that/must/wrap/on/a/phone/screen?with=query&and=more')}`,
        );
        await visit('error-expired', '/oauth/consent?request_id=gone&app_id=x');
        await visit('error-not-found', '/no/such/page');

        await page.goto(`${d.ui}/`);
        await page.locator('form.signout button').click();
        await page.waitForURL(/\/signed-out/);
        await check(page, `${lang}-signed-out`);

        await signIn(page, 'nobody@example.com', 'nobody-0000');
        await visit('no-app', AUTHORIZE);
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    }, 120_000);
  }
});

describe('what the pages promise, in Chromium', () => {
  it('the switcher changes the language with a link, remembers it, and comes back to the page', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${d.ui}/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
      expect(await heading(page)).toBe('Sign in to Smooch to continue to Shoplifter');
      await page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: 'Deutsch' }).click();
      expect(await heading(page)).toBe('Bei Smooch anmelden, um mit Shoplifter fortzufahren');
      expect(new URL(page.url()).searchParams.get('return_to')).toBe(AUTHORIZE);
      await page.goto(`${d.ui}/signed-out`);
      expect(await heading(page)).toBe('Sie sind abgemeldet');
      expect(await page.getByRole('link', { name: 'Deutsch' }).getAttribute('aria-current')).toBe('true');
    } finally {
      await context.close();
    }
  });

  it('follows the browser’s language without a choice', async () => {
    const context = await d.chromium.newContext({ locale: 'ja-JP' });
    try {
      const page = await context.newPage();
      await page.goto(`${d.ui}/login`);
      expect(await heading(page)).toBe('Smooch にログイン');
    } finally {
      await context.close();
    }
  });

  it('a failed sign-in puts focus on the alert; the favicon and the product logo load', async () => {
    const { context, page } = await newPage({ width: 1280 });
    try {
      await page.goto(`${d.ui}/login`);
      const icon = await page.locator('link[rel=icon]').getAttribute('href');
      const served = await context.request.get(`${d.ui}${icon}`);
      expect([served.status(), served.headers()['content-type']]).toEqual([200, 'image/svg+xml']);
      expect(await page.locator('.brand img').evaluate((img) => (img as HTMLImageElement).naturalWidth > 0)).toBe(true);
      await page.locator('#email').fill('ada@example.com');
      await page.locator('#password').fill('wrong-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('#login-error');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('login-error');
      expect(await page.getByRole('alert').textContent()).toBe('Email or password is incorrect.');
      // Controls use the page's font, not the browser's default for buttons and inputs.
      const fonts = await page.evaluate(() =>
        [document.body, document.querySelector('button'), document.querySelector('#email')].map(
          (e) => getComputedStyle(e as Element).fontFamily,
        ),
      );
      expect(new Set(fonts).size).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('dark mode uses the dark palette', async () => {
    const { context, page } = await newPage({ colorScheme: 'dark', width: 1280 });
    try {
      await page.goto(`${d.ui}/login`);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe('rgb(13, 17, 23)');
      await page.screenshot({ path: `${SHOTS}/dark-login-desktop.png` });
    } finally {
      await context.close();
    }
  });

  it('the picker preselects nothing and will not continue without a choice', async () => {
    const { context, page } = await newPage({ width: 1280 });
    try {
      await signIn(page, 'ada@example.com', 'lovelace-1815');
      await page.goto(`${d.ui}${AUTHORIZE}`);
      expect(await heading(page)).toBe('Choose an app for Shoplifter');
      expect(await page.locator('input[name=app_id]:checked').count()).toBe(0);
      await page.getByRole('button', { name: 'Continue' }).click();
      // The browser's own validation keeps the form here.
      expect(await heading(page)).toBe('Choose an app for Shoplifter');
      await page.getByLabel('Acme Sales').check();
      await page.getByRole('button', { name: 'Continue' }).click();
      expect(await heading(page)).toBe('Shoplifter wants access to Acme Sales');
      // Trust signals: policy and terms, how to remove access, grouped permissions.
      expect(await page.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe('https://shoplifter.example/privacy');
      expect(await page.getByRole('link', { name: 'Terms of service' }).getAttribute('href')).toBe('https://shoplifter.example/terms');
      expect(await page.getByRole('heading', { name: 'Can see' }).count()).toBe(1);
      expect(await page.getByRole('heading', { name: 'Can do' }).count()).toBe(1);
      await page.getByRole('link', { name: 'Connected integrations' }).last().click();
      expect(await heading(page)).toBe('Connected integrations');
    } finally {
      await context.close();
    }
  });

  it('a redirect off the partner’s website is flagged on consent', async () => {
    await d.t.db.updateTable('clients').set({ client_uri: 'https://shoplifter.example' }).where('client_id', '=', 'shoplifter').execute();
    const { context, page } = await newPage({ width: 1280 });
    try {
      await signIn(page, 'grace@example.com', 'hopper-1906');
      await page.goto(`${d.ui}${AUTHORIZE}`);
      expect(await page.locator('.warning').textContent()).toBe(
        'Check this address: localhost:4000 is not the website of Shoplifter (shoplifter.example).',
      );
      await check(page, 'en-consent-redirect-warning');
    } finally {
      await context.close();
      await d.t.db.updateTable('clients').set({ client_uri: 'http://localhost:4000' }).where('client_id', '=', 'shoplifter').execute();
    }
  });

  it('an error page shows the developer details and a way back to the partner, never to the unregistered address', async () => {
    const { context, page } = await newPage({ width: 1280 });
    try {
      await page.goto(
        `${d.ui}/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
      );
      expect(await heading(page)).toBe('Invalid redirect address');
      const details = page.getByRole('region', { name: 'Details for the partner’s developers' });
      expect(await details.getByText('invalid_request').count()).toBe(1);
      expect(await details.getByText('https://evil.example/cb').count()).toBe(1);
      expect(await details.getByText('localhost:4000').count()).toBe(1);
      // As written in the page (a.href would resolve the skip link's #main against this very URL).
      const hrefs = await page.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
      expect(hrefs.filter((h) => h.includes('evil'))).toEqual([]);
      expect(await page.getByRole('link', { name: 'Back to Shoplifter' }).getAttribute('href')).toBe('http://localhost:4000/');
    } finally {
      await context.close();
    }
  });

  it('Connected integrations shows who allowed it and when it was last used; removal asks first', async () => {
    const { context, page } = await newPage({ width: 1280 });
    try {
      await signIn(page, 'ada@example.com', 'lovelace-1815');
      await page.goto(`${d.ui}/integrations`);
      expect(await page.getByText('Allowed by ada@example.com').count()).toBeGreaterThan(0);
      expect(await page.getByText('Last used November 30, 2026 at 7:42 AM UTC').count()).toBe(1);
      await page.getByRole('button', { name: 'Remove Shoplifter from Acme Support' }).click();
      expect(await heading(page)).toBe('Remove Shoplifter from Acme Support?');
      await page.getByRole('link', { name: 'Cancel' }).click();
      expect(await heading(page)).toBe('Connected integrations');
      expect(await page.getByRole('button', { name: 'Remove Shoplifter from Acme Support' }).count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});
