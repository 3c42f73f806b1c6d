// What the pages tell people (issue 15 items 4, 6-10): the product's name, error pages with a way out, the consent
// page's trust signals, the removal confirmation and "last used", polish, and five languages; inject() on real stores.
import { SCOPE_NAMES } from '@partner-oauth/contracts';
import { sha256 } from '@partner-oauth/service-kit';
import { findActiveToken, issueToken } from '@partner-oauth/storage';
import { Browser, hidden } from '@partner-oauth/test-support/browser';
import { describe, expect, it } from 'vitest';
import { en } from '../src/i18n/en.js';
import { catalogues, chooseLocale } from '../src/i18n/index.js';
import { buildApp, loadAuthorizeUiConfig } from '../src/index.js';
import { useApp } from './helpers.js';

const AUTHORIZE = '/oauth/authorize?client_id=shoplifter&response_type=code&state=xyz';
const SETTINGS = { ISSUER: 'http://localhost:3000', LOGIN_RATE_LIMIT_PER_MINUTE: '1000' };
const h = useApp({ env: SETTINGS });
const env = (extra: Record<string, string> = {}) =>
  loadAuthorizeUiConfig({ DATABASE_URL: h.t.url, REDIS_URL: h.redis.url, NODE_ENV: 'test', ...SETTINGS, ...extra });

async function signedIn(email: string, password: string, headers: Record<string, string> = {}): Promise<Browser> {
  const browser = new Browser(h.app, headers);
  expect((await browser.login(email, password)).statusCode).toBe(303);
  return browser;
}

async function withClient<T>(changes: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  const before = await h.t.db.selectFrom('clients').selectAll().where('client_id', '=', 'shoplifter').executeTakeFirstOrThrow();
  await h.t.db.updateTable('clients').set(changes).where('client_id', '=', 'shoplifter').execute();
  try {
    return await run();
  } finally {
    const restore = Object.fromEntries(Object.keys(changes).map((k) => [k, (before as Record<string, unknown>)[k]]));
    await h.t.db.updateTable('clients').set(restore).where('client_id', '=', 'shoplifter').execute();
  }
}

describe('the product’s name (item 4)', () => {
  it('sign-in says who is asking when a partner sent the browser, and names the product otherwise', async () => {
    const res = await h.app.inject(`/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
    expect(res.body).toContain('<h1>Sign in to Smooch to continue to Shoplifter</h1>');
    expect(res.body).toContain('<title>Sign in · Smooch</title>');
    expect(res.body).toContain('<img src="/static/logo.svg" alt="" width="28" height="28"><span>Smooch</span>');
    const plain = await h.app.inject('/login');
    expect(plain.body).toContain('<h1>Sign in to Smooch</h1>');
    // An unknown client in return_to names no one.
    const ghost = await h.app.inject(`/login?return_to=${encodeURIComponent('/oauth/authorize?client_id=ghost')}`);
    expect(ghost.body).toContain('<h1>Sign in to Smooch</h1>');
  });

  it('comes from configuration: name and logo', async () => {
    const other = await buildApp({
      config: env({ PRODUCT_NAME: 'Acme <Chat>', PRODUCT_LOGO: 'https://cdn.example/logo.png' }),
      db: h.t.db,
      store: h.redis.store,
      logger: false,
    });
    try {
      const res = await other.inject(`/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
      expect(res.body).toContain('Sign in to Acme &lt;Chat&gt; to continue to Shoplifter');
      expect(res.body).toContain('<img src="https://cdn.example/logo.png"');
    } finally {
      await other.close();
    }
    expect(() => env({ PRODUCT_LOGO: 'javascript:alert(1)' })).toThrow(/PRODUCT_LOGO/);
    expect(() => env({ PRODUCT_LOGO: '//evil.example/x.png' })).toThrow(/PRODUCT_LOGO/);
  });
});

describe('error pages (item 6)', () => {
  it('unknown client: the code, the client_id (escaped), the request id, and a way to the account', async () => {
    const res = await h.app.inject({
      url: '/oauth/authorize?client_id=%3Cb%3Eghost&response_type=code',
      headers: { 'x-request-id': 'req-abc-123' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('<code>invalid_client</code>');
    expect(res.body).toContain('<code>&lt;b&gt;ghost</code>');
    expect(res.body).not.toContain('<b>ghost');
    expect(res.body).toContain('<code>req-abc-123</code>');
    expect(res.body).toContain('<a href="/">Go to your account</a>');
  });

  it('unregistered redirect_uri: shows it as text beside the registered hosts, and links back to the partner’s website only', async () => {
    const evil = 'https://evil.example/cb?"><script>alert(1)</script>';
    const res = await h.app.inject(`/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${encodeURIComponent(evil)}`);
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('<code>invalid_request</code>');
    expect(res.body).toContain('<code>shoplifter</code>');
    expect(res.body).toContain('<code>https://evil.example/cb?&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</code>');
    expect(res.body).toContain('<dt>Registered for this partner</dt><dd><code>localhost:4000</code></dd>');
    expect(res.body).toContain('<a href="http://localhost:4000/" rel="noopener noreferrer">Back to Shoplifter</a>');
    expect(res.body).not.toMatch(/href="https:\/\/evil/);
    expect(res.body).not.toContain('<script>');
    // A website that is not a plain web address is no way out: the account is.
    await withClient({ client_uri: 'javascript:alert(1)' }, async () => {
      const page = await h.app.inject(`/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${encodeURIComponent(evil)}`);
      expect(page.body).not.toContain('javascript:');
      expect(page.body).toContain('<a href="/">Go to your account</a>');
    });
  });

  it('an app the account does not own: access_denied, and back to the partner', async () => {
    const ada = await signedIn('ada@example.com', 'lovelace-1815');
    const picker = await ada.get(AUTHORIZE);
    const res = await ada.get(`/oauth/consent?request_id=${hidden(picker.body, 'request_id')}&app_id=${h.t.ids.apps['Grace Shop']}`);
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('<code>access_denied</code>');
    expect(res.body).toContain('<a href="http://localhost:4000/" rel="noopener noreferrer">Back to Shoplifter</a>');
  });

  it('every error page carries a request id, in the visitor’s language', async () => {
    const res = await h.app.inject({ url: '/nowhere', headers: { 'accept-language': 'fr' } });
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('Page introuvable');
    expect(res.body).toMatch(/<dt>ID de requête<\/dt><dd><code>[^<]+<\/code><\/dd>/);
  });
});

describe('consent trust signals (item 7)', () => {
  it('policy and terms links, how to remove access, and permissions grouped into can see / can do', async () => {
    await withClient({ policy_uri: 'https://shoplifter.example/privacy', tos_uri: 'https://shoplifter.example/terms' }, async () => {
      const grace = await signedIn('grace@example.com', 'hopper-1906');
      const res = await grace.get(`${AUTHORIZE}&scope=${encodeURIComponent('app:read conversations:write users:read')}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<a href="https://shoplifter.example/privacy" rel="noopener noreferrer">Privacy policy</a>');
      expect(res.body).toContain('<a href="https://shoplifter.example/terms" rel="noopener noreferrer">Terms of service</a>');
      expect(res.body).toContain('You can remove access any time in <a href="/integrations">Connected integrations</a>.');
      const see = res.body.slice(res.body.indexOf('id="scopes-see"'), res.body.indexOf('id="scopes-do"'));
      const act = res.body.slice(res.body.indexOf('id="scopes-do"'));
      expect(see).toContain('Can see');
      expect(see).toContain('See the app’s name and basic settings');
      expect(see).toContain('See the app’s users and their profiles');
      expect(see).not.toContain('Send messages');
      expect(act).toContain('Can do');
      expect(act).toContain('Send messages and manage conversations in the app');
      // Same host for website and redirect: no warning.
      expect(res.body).not.toContain('class="warning"');
    });
  });

  it('policy and terms that are not web addresses are not linked', async () => {
    await withClient({ policy_uri: 'javascript:alert(1)', tos_uri: 'data:text/html,x' }, async () => {
      const grace = await signedIn('grace@example.com', 'hopper-1906');
      const res = await grace.get(AUTHORIZE);
      expect(res.body).not.toContain('javascript:');
      expect(res.body).not.toContain('data:text');
      expect(res.body).not.toContain('Privacy policy');
    });
  });

  it('warns when the redirect host is not the partner’s website host', async () => {
    await withClient({ client_uri: 'https://shoplifter.example' }, async () => {
      const grace = await signedIn('grace@example.com', 'hopper-1906');
      const res = await grace.get(AUTHORIZE);
      expect(res.body).toContain(
        '<p class="warning">Check this address: localhost:4000 is not the website of Shoplifter (shoplifter.example).</p>',
      );
    });
    await withClient({ client_uri: 'https://shoplifter.example', redirect_uris: ['https://app.shoplifter.example/cb'] }, async () => {
      const grace = await signedIn('grace@example.com', 'hopper-1906');
      const res = await grace.get(AUTHORIZE);
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('class="warning"');
      expect(res.body).toContain('Afterwards you will be sent to app.shoplifter.example.');
    });
  });
});

describe('Connected integrations (item 8)', () => {
  it('shows who allowed it, since when and when last used; Remove asks first, on a page of its own', async () => {
    const tokenHash = sha256('poat_pages_test_grace');
    const { authorizationId } = await issueToken(h.t.db, {
      clientId: 'shoplifter',
      appId: h.t.ids.apps['Grace Shop'] as string,
      accountId: h.t.ids.accounts['grace@example.com'] as string,
      scope: 'app:read',
      tokenHash,
      codeHash: null,
    });
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const list = await grace.get('/integrations');
    expect(list.body).toContain('Allowed by grace@example.com');
    expect(list.body).toContain('Not used yet');
    expect(list.body).toContain('“Last used” is when the partner last used its access');

    await h.t.db
      .updateTable('authorizations')
      .set({ last_used_at: new Date('2026-11-30T07:42:00Z') })
      .where('id', '=', authorizationId)
      .execute();
    expect((await grace.get('/integrations')).body).toContain('Last used November 30, 2026 at 7:42 AM UTC');

    // The list's Remove is a plain link-like form: it asks, it removes nothing.
    expect(list.body).toContain('<form method="get" action="/integrations/remove">');
    const confirm = await grace.get(`/integrations/remove?authorization_id=${authorizationId}`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('<h1>Remove Shoplifter from Grace Shop?</h1>');
    expect(confirm.body).toContain('<a class="button" href="/integrations">Cancel</a>');
    expect(await findActiveToken(h.t.db, tokenHash)).toBeDefined();
    // Another account's confirmation page tells nothing.
    const ada = await signedIn('ada@example.com', 'lovelace-1815');
    expect((await ada.get(`/integrations/remove?authorization_id=${authorizationId}`)).statusCode).toBe(404);
    // Confirming without the page's token is refused; with it, access ends.
    expect((await grace.post('/integrations/remove', { authorization_id: authorizationId })).statusCode).toBe(403);
    const removed = await grace.post('/integrations/remove', { authorization_id: authorizationId, _csrf: hidden(confirm.body, '_csrf') });
    expect(removed.statusCode).toBe(303);
    expect(await findActiveToken(h.t.db, tokenHash)).toBeUndefined();
  });

  it('the confirmation page asks a signed-out visitor to sign in', async () => {
    const res = await h.app.inject('/integrations/remove?authorization_id=x');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/login?return_to=%2Fintegrations');
  });
});

describe('polish (item 10)', () => {
  it('no app is preselected when there are several; a failed sign-in focuses its alert', async () => {
    const ada = await signedIn('ada@example.com', 'lovelace-1815');
    const picker = await ada.get(AUTHORIZE);
    expect(picker.body).toContain('Choose an app for Shoplifter');
    expect(picker.body).not.toContain('checked');
    expect(picker.body).toContain('<input type="radio" name="app_id" required value=');
    const failed = await new Browser(h.app).login('ada@example.com', 'wrong', AUTHORIZE);
    expect(failed.body).toContain('<p class="error" role="alert" id="login-error" tabindex="-1" autofocus>');
    // Its language links keep the way back to the partner's request.
    expect(failed.body).toContain(
      `href="/language?${new URLSearchParams({ lang: 'fr', return_to: `/login?${new URLSearchParams({ return_to: AUTHORIZE })}` })}"`.replace(
        /&/g,
        '&amp;',
      ),
    );
  });

  it('serves a favicon, and the stylesheet inherits fonts in controls and has a dark palette', async () => {
    const page = await h.app.inject('/login');
    expect(page.body).toContain('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">');
    const icon = await h.app.inject('/static/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    const css = (await h.app.inject('/static/app.css')).body;
    expect(css).toMatch(/button,\s*input\s*\{\s*font: inherit;/);
    expect(css).toContain('@media (prefers-color-scheme: dark)');
  });
});

describe('languages (item 9)', () => {
  const placeholders = (text: string) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();

  it('every catalogue has every key, non-empty, with the same placeholders as English', () => {
    expect(Object.keys(catalogues).sort()).toEqual(['de', 'en', 'es', 'fr', 'ja']);
    for (const [locale, catalogue] of Object.entries(catalogues)) {
      expect(Object.keys(catalogue).sort(), locale).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(en)) {
        const translated = catalogue[key as keyof typeof en];
        expect(translated.trim(), `${locale} ${key}`).not.toBe('');
        expect(placeholders(translated), `${locale} ${key}`).toEqual(placeholders(text));
      }
    }
  });

  it('every scope of the catalogue has a description in every language', () => {
    for (const catalogue of Object.values(catalogues)) {
      for (const scope of SCOPE_NAMES) expect(catalogue[`scope.${scope}`]).toBeTruthy();
    }
  });

  it('other languages are translated, not copied (beyond names and codes)', () => {
    const same = (a: string, b: string) => a === b && !/^(client_id|redirect_uri|App|Error|Website)$/.test(a);
    for (const [locale, catalogue] of Object.entries(catalogues)) {
      if (locale === 'en') continue;
      const copied = Object.entries(en).filter(([key, text]) => same(catalogue[key as keyof typeof en], text));
      expect(copied, locale).toEqual([]);
    }
  });

  it('follows Accept-Language; the switcher’s choice, kept in a cookie, comes first', async () => {
    const fr = await h.app.inject({ url: '/login', headers: { 'accept-language': 'fr-FR,fr;q=0.9' } });
    expect(fr.body).toContain('<html lang="fr">');
    expect(fr.body).toContain('<h1>Connectez-vous à Smooch</h1>');
    expect(fr.body).toContain('<a href="/language?lang=ja&amp;return_to=%2Flogin" lang="ja" hreflang="ja">日本語</a>');

    const switched = await h.app.inject('/language?lang=ja&return_to=%2Flogin');
    expect(switched.statusCode).toBe(303);
    expect(switched.headers.location).toBe('/login');
    const cookie = String(switched.headers['set-cookie']);
    expect(cookie).toMatch(/^lang=ja;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const ja = await h.app.inject({ url: '/login', headers: { 'accept-language': 'fr', cookie: 'lang=ja' } });
    expect(ja.body).toContain('<html lang="ja">');
    expect(ja.body).toContain('<h1>Smooch にログイン</h1>');
    expect(ja.body).toContain('aria-current="true">日本語</a>');
    expect(chooseLocale('xx', 'de')).toBe('de');
  });

  it('the switcher ignores an unknown language and never leaves the site', async () => {
    const unknown = await h.app.inject('/language?lang=xx&return_to=%2Flogin');
    expect(unknown.statusCode).toBe(303);
    expect(unknown.headers['set-cookie']).toBeUndefined();
    for (const evil of ['//evil.example', 'https://evil.example', '/\\evil.example']) {
      const res = await h.app.inject(`/language?lang=de&return_to=${encodeURIComponent(evil)}`);
      expect(res.headers.location).toBe('/');
    }
    expect((await h.app.inject('/language')).statusCode).toBe(400);
  });

  it('the consent page speaks the chosen language, scopes included', async () => {
    const grace = await signedIn('grace@example.com', 'hopper-1906', { 'accept-language': 'de' });
    const res = await grace.get(AUTHORIZE);
    expect(res.body).toContain('Shoplifter möchte auf Grace Shop zugreifen');
    expect(res.body).toContain('den Namen und die Grundeinstellungen der App sehen');
    expect(res.body).toContain('<button type="submit" name="decision" value="allow" class="primary">Erlauben</button>');
  });
});
