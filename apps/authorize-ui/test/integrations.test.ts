// Connected integrations, the consent page's extras (already connected, switch account) and message negotiation.
import { sha256 } from '@partner-oauth/service-kit';
import { findActiveToken, issueToken } from '@partner-oauth/storage';
import { Browser, hidden } from '@partner-oauth/test-support/browser';
import { describe, expect, it } from 'vitest';
import { negotiateLocale } from '../src/i18n/index.js';
import { useApp } from './helpers.js';

const AUTHORIZE = '/oauth/authorize?client_id=shoplifter&response_type=code&state=xyz';
const h = useApp({ env: { ISSUER: 'http://localhost:3000', LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });

async function signedIn(email: string, password: string): Promise<Browser> {
  const browser = new Browser(h.app);
  expect((await browser.login(email, password)).statusCode).toBe(303);
  return browser;
}

/** Grants Shoplifter `appName` as the seeded owner would, returning the token's hash. */
async function connect(appName: string, email: string, token: string): Promise<string> {
  const tokenHash = sha256(token);
  await issueToken(h.t.db, {
    clientId: 'shoplifter',
    appId: h.t.ids.apps[appName] as string,
    accountId: h.t.ids.accounts[email] as string,
    scope: 'app:read conversations:read',
    tokenHash,
    codeHash: null,
  });
  return tokenHash;
}

describe('Connected integrations', () => {
  it('asks to sign in first, and comes back after', async () => {
    const res = await h.app.inject('/integrations');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/login?return_to=%2Fintegrations');
  });

  it('lists the partners on the apps the account owns, and Remove ends the access and queues the notice', async () => {
    const tokenHash = await connect('Grace Shop', 'grace@example.com', 'poat_integrations_test_grace');
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const page = await grace.get('/integrations');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<h2 id="app-');
    expect(page.body).toContain('Grace Shop</h2>');
    expect(page.body).toContain('<h3>Shoplifter</h3>');
    expect(page.body).toMatch(/Connected since [A-Z][a-z]+ \d{1,2}, \d{4}/);
    expect(page.body).toContain('<li>See the app’s name and basic settings</li>');
    expect(page.body).toContain('<li>Read the app’s conversations and messages</li>');
    expect(page.body).toContain('aria-label="Remove Shoplifter from Grace Shop"');

    // Another account owning nothing of it sees none of it, and cannot remove it.
    const ada = await signedIn('ada@example.com', 'lovelace-1815');
    const adaPage = await ada.get('/integrations');
    expect(adaPage.body).toContain('No partner has access to your apps.');
    const refused = await ada.post('/integrations/remove', {
      authorization_id: hidden(page.body, 'authorization_id'),
      _csrf: hidden(adaPage.body, '_csrf'),
    });
    expect(refused.statusCode).toBe(404);
    expect(refused.body).toContain('Not your integration');
    expect(await findActiveToken(h.t.db, tokenHash)).toBeDefined();

    const removed = await grace.post('/integrations/remove', {
      authorization_id: hidden(page.body, 'authorization_id'),
      _csrf: hidden(page.body, '_csrf'),
    });
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe('/integrations');
    expect(await findActiveToken(h.t.db, tokenHash)).toBeUndefined();
    const notices = await h.t.db.selectFrom('webhook_deliveries').select(['client_id', 'app_id', 'reason', 'url']).execute();
    expect(notices).toEqual([
      { client_id: 'shoplifter', app_id: h.t.ids.apps['Grace Shop'], reason: 'owner_removed', url: 'http://localhost:4000/removed' },
    ]);

    const after = await grace.get('/integrations');
    expect(after.body).toContain('<p class="notice" role="status">Shoplifter no longer has access to Grace Shop.</p>');
    expect(after.body).toContain('No partner has access to your apps.');
    // The notice is shown once.
    expect((await grace.get('/integrations')).body).not.toContain('no longer has access');

    // Removing it again: already gone.
    const again = await grace.post('/integrations/remove', {
      authorization_id: hidden(page.body, 'authorization_id'),
      _csrf: hidden(after.body, '_csrf'),
    });
    expect(again.statusCode).toBe(404);
  });

  it('refuses a removal without the CSRF token', async () => {
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const res = await grace.post('/integrations/remove', { authorization_id: 'whatever' });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('Request refused');
  });
});

describe('consent page', () => {
  it('shows the partner, the website host, the destination, who is signed in, and says when it is already connected', async () => {
    const ada = await signedIn('ada@example.com', 'lovelace-1815');
    const picker = await ada.get(AUTHORIZE);
    const requestId = hidden(picker.body, 'request_id');
    const support = h.t.ids.apps['Acme Support'] as string;
    const first = await ada.get(`/oauth/consent?request_id=${requestId}&app_id=${support}`);
    expect(first.body).toContain('Shoplifter wants access to Acme Support');
    expect(first.body).toContain('Website: <a href="http://localhost:4000/" rel="noopener noreferrer">localhost:4000</a>');
    expect(first.body).toContain('Afterwards you will be sent to localhost:4000.');
    expect(first.body).toContain('Signed in as ada@example.com. Not you?');
    expect(first.body).toContain(`href="/oauth/pick-app?request_id=${requestId}"`);
    expect(first.body).not.toContain('already has access');
    // Browsers apply form-action to the redirect after Allow: the partner's origin is allowed, nothing else.
    expect(first.headers['content-security-policy']).toBe(
      "default-src 'none';style-src 'self';img-src 'self' https: data:;form-action 'self' http://localhost:4000;frame-ancestors 'none';base-uri 'none'",
    );

    await connect('Acme Support', 'ada@example.com', 'poat_integrations_test_ada');
    const again = await ada.get(`/oauth/consent?request_id=${requestId}&app_id=${support}`);
    expect(again.body).toMatch(/Shoplifter already has access to Acme Support since [A-Z][a-z]+ \d{1,2}, \d{4}\./);
  });

  it('Switch account signs out and restarts the same request at the login page', async () => {
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const consent = await grace.get(`${AUTHORIZE}&scope=app:read`);
    const res = await grace.post('/switch-account', {
      request_id: hidden(consent.body, 'request_id'),
      _csrf: hidden(consent.body, '_csrf'),
    });
    expect(res.statusCode).toBe(303);
    const login = new URL(String(res.headers.location), 'http://localhost:3000');
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('return_to')).toBe('/oauth/authorize?client_id=shoplifter&response_type=code&scope=app%3Aread&state=xyz');
    // Signed out: the old session no longer reaches the account page.
    expect((await grace.get('/')).statusCode).toBe(302);
    // The old request is gone with it.
    const decision = await grace.post('/oauth/decision', {
      request_id: hidden(consent.body, 'request_id'),
      app_id: hidden(consent.body, 'app_id'),
      decision: 'allow',
      _csrf: hidden(consent.body, '_csrf'),
    });
    expect(decision.statusCode).toBe(403);
  });
});

describe('messages', () => {
  it('negotiates the language from Accept-Language, English by default', () => {
    expect(negotiateLocale(undefined)).toBe('en');
    expect(negotiateLocale('fr-CA, fr;q=0.9, en;q=0.5', ['en', 'fr'])).toBe('fr');
    expect(negotiateLocale('de, en-GB;q=0.8', ['en', 'fr'])).toBe('en');
    expect(negotiateLocale('ja-JP,ja;q=0.9,en;q=0.8')).toBe('ja');
    expect(negotiateLocale('es-419')).toBe('es');
    expect(negotiateLocale('fr;q=0, en;q=0.1', ['en', 'fr'])).toBe('en');
    expect(negotiateLocale('de;q=0.9, fr;q=1', ['fr', 'de'])).toBe('fr');
    expect(negotiateLocale('garbage;;;q=x', ['en', 'fr'])).toBe('en');
  });

  it('pages declare their language', async () => {
    const res = await h.app.inject({ url: '/login', headers: { 'accept-language': 'de-DE, de;q=0.9' } });
    expect(res.body).toContain('<html lang="de">');
    expect(res.body).toContain('<title>Anmelden · Smooch</title>');
  });
});
