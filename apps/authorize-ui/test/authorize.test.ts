// The browser side of the flow through inject(), against real Postgres and Redis.
import { randomBytes } from 'node:crypto';
import { endAuthorizations, issueToken } from '@partner-oauth/storage';
import { addTestClient } from '@partner-oauth/storage/testing';
import { Browser, hidden } from '@partner-oauth/test-support/browser';
import { describe, expect, it } from 'vitest';
import { useApp } from './helpers.js';

const ISSUER = 'http://localhost:3000';
const CALLBACK = 'http://localhost:4000/callback';
const AUTHORIZE = '/oauth/authorize?client_id=shoplifter&response_type=code&state=xyz';
const h = useApp({ env: { ISSUER, LOGIN_RATE_LIMIT_PER_MINUTE: '1000' } });

function location(res: { headers: Record<string, unknown> }): URL {
  return new URL(String(res.headers.location), ISSUER);
}

async function signedIn(email: string, password: string): Promise<Browser> {
  const browser = new Browser(h.app);
  const res = await browser.login(email, password);
  expect(res.statusCode).toBe(303);
  return browser;
}

describe('GET /oauth/authorize before the user is known', () => {
  it('unknown client_id: an error page, never a redirect', async () => {
    for (const url of ['/oauth/authorize?client_id=ghost&response_type=code', '/oauth/authorize?response_type=code']) {
      const res = await h.app.inject(url);
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('Unknown partner');
    }
  });

  it('unregistered redirect_uri: an error page, never a redirect', async () => {
    for (const uri of [
      'https://evil.example/cb',
      'http://localhost:4000/callback/',
      'http://LOCALHOST:4000/callback',
      'http://localhost:4000/callback?x=1',
    ]) {
      const res = await h.app.inject(`/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${encodeURIComponent(uri)}`);
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).toContain('Invalid redirect address');
    }
  });

  it('missing response_type redirects with invalid_request, state and iss', async () => {
    const res = await h.app.inject('/oauth/authorize?client_id=shoplifter&state=s1');
    expect(res.statusCode).toBe(302);
    const url = location(res);
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      error: 'invalid_request',
      error_description: 'missing parameter response_type',
      state: 's1',
      iss: ISSUER,
    });
  });

  it('response_type other than code redirects with unsupported_response_type', async () => {
    const res = await h.app.inject('/oauth/authorize?client_id=shoplifter&response_type=token&state=s2');
    expect(res.statusCode).toBe(302);
    expect(location(res).searchParams.get('error')).toBe('unsupported_response_type');
    expect(location(res).searchParams.get('state')).toBe('s2');
  });

  it('not signed in: to the login page, then back to the request', async () => {
    const res = await h.app.inject(AUTHORIZE);
    expect(res.statusCode).toBe(302);
    const url = location(res);
    expect(url.pathname).toBe('/login');
    expect(url.searchParams.get('return_to')).toBe(AUTHORIZE);
  });

  it('sends the security headers on every page', async () => {
    const res = await h.app.inject('/login');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('sends the same security headers on pages, redirects, error pages, static files and unknown paths', async () => {
    const csp = "default-src 'none';style-src 'self';img-src 'self' https: data:;form-action 'self';frame-ancestors 'none';base-uri 'none'";
    const security = {
      'content-security-policy': csp,
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'DENY',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };
    const names = [...Object.keys(security), 'strict-transport-security', 'x-powered-by', 'cross-origin-embedder-policy'];
    const shown = (headers: Record<string, unknown>) => Object.fromEntries(names.filter((n) => n in headers).map((n) => [n, headers[n]]));
    for (const url of [
      '/login',
      AUTHORIZE,
      '/oauth/authorize?client_id=ghost',
      '/no-such-page',
      '/.well-known/oauth-authorization-server',
    ]) {
      expect(shown((await h.app.inject(url)).headers), url).toEqual(security);
    }
    // Static files are embedded by partners' sites: cross-origin, the rest as every page.
    expect(shown((await h.app.inject('/static/app.css')).headers)).toEqual({ ...security, 'cross-origin-resource-policy': 'cross-origin' });
    // The consent page's form may end at the partner's redirect URI: its CSP allows that origin, nothing else changes.
    const consent = await (await signedIn('grace@example.com', 'hopper-1906')).get(AUTHORIZE);
    expect(shown(consent.headers)).toEqual({
      ...security,
      'content-security-policy': csp.replace("form-action 'self'", "form-action 'self' http://localhost:4000"),
    });
  });
});

describe('login', () => {
  it('a wrong password stays on the login page with a message', async () => {
    const browser = new Browser(h.app);
    const res = await browser.login('ada@example.com', 'wrong');
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('Email or password is incorrect.');
    const unknown = await browser.login('nobody-here@example.com', 'wrong');
    expect(unknown.statusCode).toBe(401);
  });

  it('signs in with an HttpOnly SameSite=Lax cookie, a new session id, and goes back', async () => {
    const browser = new Browser(h.app);
    const page = await browser.get(`/login?return_to=${encodeURIComponent(AUTHORIZE)}`);
    const before = browser.cookies.get('sid');
    const res = await browser.post('/login', {
      email: 'ADA@example.com',
      password: 'lovelace-1815',
      return_to: AUTHORIZE,
      _csrf: hidden(page.body, '_csrf'),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(AUTHORIZE);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(browser.cookies.get('sid')).not.toBe(before);
  });

  it('a login POST without the form token is refused', async () => {
    const res = await new Browser(h.app).post('/login', { email: 'ada@example.com', password: 'lovelace-1815' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('return_to never leaves this site', async () => {
    for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example', 'https:evil.example', '/%2F%2Fevil.example']) {
      const browser = new Browser(h.app);
      const res = await browser.login('ada@example.com', 'lovelace-1815', evil);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/');
    }
  });
});

describe('consent', () => {
  it('several apps: picker, consent for the chosen one, Allow redirects with a code for it', async () => {
    const browser = await signedIn('ada@example.com', 'lovelace-1815');
    const picker = await browser.get(AUTHORIZE);
    expect(picker.statusCode).toBe(200);
    expect(picker.body).toContain('Acme Support');
    expect(picker.body).toContain('Acme Sales');
    const requestId = hidden(picker.body, 'request_id');
    const sales = h.t.ids.apps['Acme Sales'] as string;
    const consent = await browser.get(`/oauth/consent?request_id=${requestId}&app_id=${sales}`);
    expect(consent.statusCode).toBe(200);
    expect(consent.body).toContain('Shoplifter wants access to Acme Sales');
    expect(consent.body).toContain('lists your store’s orders');
    const decision = await browser.post('/oauth/decision', {
      request_id: requestId,
      app_id: sales,
      decision: 'allow',
      _csrf: hidden(consent.body, '_csrf'),
    });
    expect(decision.statusCode).toBe(303);
    const url = location(decision);
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(url.searchParams.get('state')).toBe('xyz');
    expect(url.searchParams.get('iss')).toBe(ISSUER);
    const grant = await h.codes.redeem(url.searchParams.get('code') as string, 'shoplifter');
    expect(grant).toMatchObject({
      clientId: 'shoplifter',
      appId: sales,
      accountId: h.t.ids.accounts['ada@example.com'],
      redirectUri: CALLBACK,
      redirectUriSent: false,
    });
  });

  it('one app: straight to consent; Deny redirects with access_denied', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const consent = await browser.get(AUTHORIZE);
    expect(consent.body).toContain('Shoplifter wants access to Grace Shop');
    const res = await browser.post('/oauth/decision', {
      request_id: hidden(consent.body, 'request_id'),
      app_id: hidden(consent.body, 'app_id'),
      decision: 'deny',
      _csrf: hidden(consent.body, '_csrf'),
    });
    expect(res.statusCode).toBe(303);
    expect(Object.fromEntries(location(res).searchParams)).toEqual({ error: 'access_denied', state: 'xyz', iss: ISSUER });
  });

  it('no app: a page that says so, and no code', async () => {
    const browser = await signedIn('nobody@example.com', 'nobody-0000');
    const res = await browser.get(AUTHORIZE);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('You have no app yet');
    expect(res.body).not.toContain('/oauth/decision');
  });

  it('a decision without the form token gets 403 and no code', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const consent = await browser.get(AUTHORIZE);
    const res = await browser.post('/oauth/decision', {
      request_id: hidden(consent.body, 'request_id'),
      app_id: hidden(consent.body, 'app_id'),
      decision: 'allow',
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers.location).toBeUndefined();
  });

  it('a decision posted twice issues one code at most', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const consent = await browser.get(AUTHORIZE);
    const fields = {
      request_id: hidden(consent.body, 'request_id'),
      app_id: hidden(consent.body, 'app_id'),
      decision: 'allow',
      _csrf: hidden(consent.body, '_csrf'),
    };
    expect((await browser.post('/oauth/decision', fields)).statusCode).toBe(303);
    const again = await browser.post('/oauth/decision', fields);
    expect(again.statusCode).toBe(400);
    expect(again.headers.location).toBeUndefined();
    expect(again.body).toContain('This request has expired');
  });

  it('one app already connected: the consent page says since when; the code is bound to the client’s epoch and the ended grants', async () => {
    await addTestClient(h.t.db, 'bound', { client_name: 'Bound' });
    const bound = '/oauth/authorize?client_id=bound&response_type=code&state=b';
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const appId = h.t.ids.apps['Grace Shop'] as string;
    const { code_epoch: epoch } = await h.t.db
      .selectFrom('clients')
      .select('code_epoch')
      .where('client_id', '=', 'bound')
      .executeTakeFirstOrThrow();
    const allow = async (consent: { body: string }) => {
      const res = await grace.post('/oauth/decision', {
        request_id: hidden(consent.body, 'request_id'),
        app_id: hidden(consent.body, 'app_id'),
        decision: 'allow',
        _csrf: hidden(consent.body, '_csrf'),
      });
      expect(res.statusCode).toBe(303);
      return h.codes.redeem(location(res).searchParams.get('code') as string, 'bound');
    };

    const first = await grace.get(bound);
    expect(first.body).toContain('Bound wants access to Grace Shop');
    expect(first.body).not.toContain('already has access');
    expect(await allow(first)).toMatchObject({ appId, binding: { epoch, endedGrants: 0 } });

    const connect = () =>
      issueToken(h.t.db, {
        clientId: 'bound',
        appId,
        accountId: h.t.ids.accounts['grace@example.com'] as string,
        scope: 'app:read',
        tokenHash: randomBytes(16).toString('hex'),
        codeHash: null,
      });
    await connect();
    const connected = await grace.get(bound);
    expect(connected.body).toMatch(/Bound already has access to Grace Shop since [A-Z][a-z]+ \d{1,2}, \d{4}\./);
    expect(await allow(connected)).toMatchObject({ binding: { epoch, endedGrants: 0 } });

    // Removed: no longer "already", and a code issued now is bound to the one ended grant.
    await endAuthorizations(h.t.db, { clientId: 'bound', appId }, 'partner_revoked');
    const removed = await grace.get(bound);
    expect(removed.body).not.toContain('already has access');
    expect(await allow(removed)).toMatchObject({ binding: { epoch, endedGrants: 1 } });
    // Another partner's access to the same app is not this one's.
    const other = await grace.get(AUTHORIZE);
    expect(other.body).toContain('Shoplifter wants access to Grace Shop');
    expect(other.body).not.toContain('already has access');
    await connect();
    expect((await grace.get(AUTHORIZE)).body).not.toContain('already has access');
  });

  it('a NUL byte in client_id or app_id: the invalid-request page, not a server error, no code', async () => {
    const nulClient = await h.app.inject('/oauth/authorize?client_id=shop%00lifter&response_type=code');
    expect(nulClient.statusCode).toBe(400);
    expect(nulClient.body).toContain('Invalid request');
    expect(nulClient.headers.location).toBeUndefined();
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const signedInNul = await grace.get('/oauth/authorize?client_id=shop%00lifter&response_type=code');
    expect(signedInNul.statusCode).toBe(400);
    expect(signedInNul.body).toContain('Invalid request');
    const consent = await grace.get(AUTHORIZE);
    const res = await grace.post('/oauth/decision', {
      request_id: hidden(consent.body, 'request_id'),
      app_id: 'app\u0000id',
      decision: 'allow',
      _csrf: hidden(consent.body, '_csrf'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Invalid request');
    expect(res.headers.location).toBeUndefined();
  });

  it('a client disabled after the consent page: the decision is refused on our page, Allow or Deny, no code', async () => {
    await addTestClient(h.t.db, 'turned-off', { client_name: 'Turned Off' });
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const authorize = () => grace.get('/oauth/authorize?client_id=turned-off&response_type=code');
    const pages = { allow: await authorize(), deny: await authorize() };
    await h.t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', 'turned-off').execute();
    // Signed in, a disabled or unknown client cannot start a flow either.
    for (const clientId of ['turned-off', 'ghost']) {
      const start = await grace.get(`/oauth/authorize?client_id=${clientId}&response_type=code`);
      expect(start.statusCode).toBe(400);
      expect(start.body).toContain('Unknown partner');
      expect(start.headers.location).toBeUndefined();
    }
    for (const [decision, page] of Object.entries(pages)) {
      const res = await grace.post('/oauth/decision', {
        request_id: hidden(page.body, 'request_id'),
        app_id: hidden(page.body, 'app_id'),
        decision,
        _csrf: hidden(page.body, '_csrf'),
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('Unknown partner');
      expect(res.headers.location).toBeUndefined();
    }
  });

  it('Deny with an app_id the database cannot be asked about still answers access_denied', async () => {
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const consent = await grace.get(AUTHORIZE);
    const res = await grace.post('/oauth/decision', {
      request_id: hidden(consent.body, 'request_id'),
      app_id: 'app\u0000id',
      decision: 'deny',
      _csrf: hidden(consent.body, '_csrf'),
    });
    expect(res.statusCode).toBe(303);
    expect(Object.fromEntries(location(res).searchParams)).toEqual({ error: 'access_denied', state: 'xyz', iss: ISSUER });
  });

  it('a tampered app_id (an app of another account) is refused', async () => {
    const browser = await signedIn('ada@example.com', 'lovelace-1815');
    const picker = await browser.get(AUTHORIZE);
    const res = await browser.post('/oauth/decision', {
      request_id: hidden(picker.body, 'request_id'),
      app_id: h.t.ids.apps['Grace Shop'] as string,
      decision: 'allow',
      _csrf: hidden(picker.body, '_csrf'),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers.location).toBeUndefined();
  });

  it('another account cannot finish someone else’s request', async () => {
    const ada = await signedIn('ada@example.com', 'lovelace-1815');
    const picker = await ada.get(AUTHORIZE);
    const grace = await signedIn('grace@example.com', 'hopper-1906');
    const own = await grace.get(AUTHORIZE);
    const res = await grace.post('/oauth/decision', {
      request_id: hidden(picker.body, 'request_id'),
      app_id: h.t.ids.apps['Grace Shop'] as string,
      decision: 'allow',
      _csrf: hidden(own.body, '_csrf'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it('escapes partner-supplied text', async () => {
    await addTestClient(h.t.db, 'xss', {
      client_name: '<script>alert(1)</script>',
      description: '<img src=x onerror=alert(2)>',
      redirect_uris: ['https://xss.example/cb'],
    });
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const res = await browser.get('/oauth/authorize?client_id=xss&response_type=code');
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).not.toContain('<img src=x');
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('logout ends the session', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const home = await browser.get('/');
    const out = await browser.post('/logout', { _csrf: hidden(home.body, '_csrf') });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/signed-out');
    const after = await browser.get(AUTHORIZE);
    expect(after.statusCode).toBe(302);
    expect(location(after).pathname).toBe('/login');
  });
});

describe('authorization request parameters (RFC 6749, 7636, 9207)', () => {
  const authorize = async (browser: Browser, query: string) =>
    browser.get(`/oauth/authorize?client_id=shoplifter&response_type=code&state=p&${query}`);
  const errorOf = (res: { headers: Record<string, unknown> }) => Object.fromEntries(location(res).searchParams);

  it('a repeated parameter: error page for client_id and redirect_uri, error redirect otherwise', async () => {
    const page = await h.app.inject('/oauth/authorize?client_id=shoplifter&client_id=shoplifter&response_type=code');
    expect(page.statusCode).toBe(400);
    expect(page.headers.location).toBeUndefined();
    const uri = encodeURIComponent(CALLBACK);
    const page2 = await h.app.inject(`/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${uri}&redirect_uri=${uri}`);
    expect(page2.statusCode).toBe(400);
    expect(page2.headers.location).toBeUndefined();
    const res = await h.app.inject('/oauth/authorize?client_id=shoplifter&response_type=code&state=a&scope=app:read&scope=users:read');
    expect(res.statusCode).toBe(302);
    expect(errorOf(res)).toEqual({ error: 'invalid_request', error_description: 'parameter scope is repeated', state: 'a', iss: ISSUER });
  });

  it('an unknown or disallowed scope is invalid_scope', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    for (const scope of ['admin:all', 'app:read%20admin:all', 'app:read%22']) {
      const res = await authorize(browser, `scope=${scope}`);
      expect(res.statusCode).toBe(302);
      expect(errorOf(res)).toMatchObject({ error: 'invalid_scope', state: 'p', iss: ISSUER });
    }
  });

  it('the consent page lists the requested scopes in plain language; the code carries them', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const consent = await authorize(browser, 'scope=users:read%20app:read');
    expect(consent.statusCode).toBe(200);
    expect(consent.body).toContain('See the app’s users and their profiles');
    expect(consent.body).toContain('See the app’s name and basic settings');
    expect(consent.body).not.toContain('Send messages');
    const res = await browser.post('/oauth/decision', {
      request_id: hidden(consent.body, 'request_id'),
      app_id: hidden(consent.body, 'app_id'),
      decision: 'allow',
      _csrf: hidden(consent.body, '_csrf'),
    });
    const grant = await h.codes.redeem(location(res).searchParams.get('code') as string, 'shoplifter');
    expect(grant).toMatchObject({ scope: 'app:read users:read' });
  });

  it('without a scope parameter the client default is asked', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const consent = await authorize(browser, '');
    expect(consent.body).toContain('Read the app’s conversations and messages');
    expect(consent.body).toContain('Send messages and manage conversations in the app');
    expect(consent.body).not.toContain('See the app’s users');
  });

  const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('PKCE: S256 accepted and carried by the code; plain, missing method and malformed challenges refused', async () => {
    const browser = await signedIn('grace@example.com', 'hopper-1906');
    const ok = await authorize(browser, `code_challenge=${CHALLENGE}&code_challenge_method=S256`);
    expect(ok.statusCode).toBe(200);
    const res = await browser.post('/oauth/decision', {
      request_id: hidden(ok.body, 'request_id'),
      app_id: hidden(ok.body, 'app_id'),
      decision: 'allow',
      _csrf: hidden(ok.body, '_csrf'),
    });
    expect(await h.codes.redeem(location(res).searchParams.get('code') as string, 'shoplifter')).toMatchObject({
      codeChallenge: CHALLENGE,
    });
    for (const q of [
      `code_challenge=${CHALLENGE}&code_challenge_method=plain`,
      `code_challenge=${CHALLENGE}`,
      'code_challenge=short&code_challenge_method=S256',
      'code_challenge_method=S256',
    ]) {
      const bad = await authorize(browser, q);
      expect(bad.statusCode).toBe(302);
      expect(errorOf(bad)).toMatchObject({ error: 'invalid_request', state: 'p', iss: ISSUER });
    }
  });

  it('PKCE is required for clients registered so', async () => {
    await h.t.db.updateTable('clients').set({ require_pkce: true }).where('client_id', '=', 'shoplifter').execute();
    try {
      const browser = await signedIn('grace@example.com', 'hopper-1906');
      const res = await authorize(browser, '');
      expect(errorOf(res)).toEqual({
        error: 'invalid_request',
        error_description: 'this client must use PKCE (code_challenge with S256)',
        state: 'p',
        iss: ISSUER,
      });
      expect((await authorize(browser, `code_challenge=${CHALLENGE}&code_challenge_method=S256`)).statusCode).toBe(200);
    } finally {
      await h.t.db.updateTable('clients').set({ require_pkce: false }).where('client_id', '=', 'shoplifter').execute();
    }
  });

  it('a disabled client cannot start a flow', async () => {
    await h.t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', 'shoplifter').execute();
    try {
      const res = await h.app.inject(AUTHORIZE);
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
    } finally {
      await h.t.db.updateTable('clients').set({ status: 'active' }).where('client_id', '=', 'shoplifter').execute();
    }
  });

  it('serves the RFC 8414 metadata at the issuer', async () => {
    const res = await h.app.inject('/.well-known/oauth-authorization-server');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/oauth/authorize`,
      token_endpoint: 'http://localhost:3001/oauth/token',
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
  });
});
