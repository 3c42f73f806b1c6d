// RFC 9700 §4.4, §4.7, §4.11, §4.12, RFC 6749 §10.12-§10.13: attacks through the browser (CSRF, tampering, framing, XSS, open redirects).
import { sha256 } from '@partner-oauth/service-kit';
import { updateClient } from '@partner-oauth/storage';
import { Browser, heading, hidden } from '@partner-oauth/test-support/browser';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADA,
  addClient,
  authorizeUrl,
  CALLBACK,
  CSP,
  consent,
  countTokens,
  GRACE,
  ISSUER,
  type Product,
  redeem,
  redisKeys,
  registryPost,
  signedIn,
  startProduct,
} from './support/product.js';

let p: Product;

beforeAll(async () => {
  p = await startProduct();
});
afterAll(async () => p.close());

const codeKeys = async () => (await redisKeys(p.redis, 'code:*')).length;

/** Whether a browser holding these cookies is signed in. */
async function isSignedIn(browser: Browser): Promise<boolean> {
  const res = await browser.get('/');
  return res.statusCode === 200;
}

describe('CSRF', () => {
  it('login CSRF: a cross-site POST /login without the form token gets 403 and signs nobody in', async () => {
    const victim = new Browser(p.ui);
    await victim.get('/login');
    const res = await victim.post('/login', { email: GRACE.email, password: GRACE.password, return_to: '/' });
    expect(res.statusCode).toBe(403);
    expect(heading(res.body)).toBe('Request refused');
    expect(res.headers.location).toBeUndefined();
    expect(await isSignedIn(victim)).toBe(false);
  });

  it('login CSRF: the form token of the attacker’s own session is refused in the victim’s session', async () => {
    const attacker = new Browser(p.ui);
    const attackerToken = hidden((await attacker.get('/login')).body, '_csrf');
    const victim = new Browser(p.ui);
    await victim.get('/login');
    const res = await victim.post('/login', { email: GRACE.email, password: GRACE.password, _csrf: attackerToken });
    expect(res.statusCode).toBe(403);
    expect(heading(res.body)).toBe('Request refused');
    expect(await isSignedIn(victim)).toBe(false);
  });

  it('consent CSRF: a cross-site POST /oauth/decision without the form token gets 403 and no code', async () => {
    const victim = await signedIn(p.ui);
    const { requestId, appId } = await consent(victim);
    const before = await codeKeys();
    const res = await victim.post('/oauth/decision', { request_id: requestId, app_id: appId, decision: 'allow' });
    expect(res.statusCode).toBe(403);
    expect(heading(res.body)).toBe('Request refused');
    expect(res.headers.location).toBeUndefined();
    expect(await codeKeys()).toBe(before);
  });

  it('consent CSRF: the attacker’s own valid form token is refused in the victim’s session', async () => {
    const attacker = await signedIn(p.ui, ADA);
    const attackerToken = hidden((await attacker.get('/')).body, '_csrf');
    const victim = await signedIn(p.ui);
    const { requestId, appId } = await consent(victim);
    const before = await codeKeys();
    const res = await victim.post('/oauth/decision', { _csrf: attackerToken, request_id: requestId, app_id: appId, decision: 'allow' });
    expect(res.statusCode).toBe(403);
    expect(heading(res.body)).toBe('Request refused');
    expect(await codeKeys()).toBe(before);
  });

  it('logout CSRF: a cross-site POST /logout without the form token gets 403 and the session survives', async () => {
    const victim = await signedIn(p.ui);
    const res = await victim.post('/logout', {});
    expect(res.statusCode).toBe(403);
    expect(await isSignedIn(victim)).toBe(true);
  });
});

describe('tampered consent forms', () => {
  it('tampered request_id: another account’s pending request cannot be decided from this session', async () => {
    const ada = await signedIn(p.ui, ADA);
    const adaPage = await ada.get(authorizeUrl());
    const adaRequest = hidden(adaPage.body, 'request_id');
    const grace = await signedIn(p.ui);
    const { appId, csrf } = await consent(grace);
    const before = await codeKeys();
    const res = await grace.post('/oauth/decision', { _csrf: csrf, request_id: adaRequest, app_id: appId, decision: 'allow' });
    expect(res.statusCode).toBe(400);
    expect(heading(res.body)).toBe('This request has expired');
    expect(res.headers.location).toBeUndefined();
    expect(await codeKeys()).toBe(before);
  });

  it('tampered app_id: an app the account is not a member of is refused with 403 and no code', async () => {
    const grace = await signedIn(p.ui);
    const { requestId, csrf } = await consent(grace);
    const before = await codeKeys();
    const res = await grace.post('/oauth/decision', {
      _csrf: csrf,
      request_id: requestId,
      app_id: p.t.ids.apps['Acme Sales'] as string,
      decision: 'allow',
    });
    expect(res.statusCode).toBe(403);
    expect(heading(res.body)).toBe('Not your app');
    expect(await codeKeys()).toBe(before);
  });

  it('tampered app_id: the consent page of an app the account is not a member of is refused', async () => {
    const grace = await signedIn(p.ui);
    const { requestId } = await consent(grace);
    const res = await grace.get(`/oauth/consent?request_id=${requestId}&app_id=${p.t.ids.apps['Acme Sales']}`);
    expect(res.statusCode).toBe(403);
    expect(heading(res.body)).toBe('Not your app');
  });

  it('tampered hidden fields: another client, redirect URI, scope and state added to the form are ignored (only the stored request counts)', async () => {
    const grace = await signedIn(p.ui);
    const { requestId, appId, csrf } = await consent(grace, { state: 'original', scope: 'app:read' });
    const res = await grace.post('/oauth/decision', {
      _csrf: csrf,
      request_id: requestId,
      app_id: appId,
      decision: 'allow',
      client_id: 'evil-client',
      redirect_uri: 'https://evil.example/callback',
      scope: 'app:read conversations:write webhooks:manage',
      state: 'forged',
    });
    expect(res.statusCode).toBe(303);
    const url = new URL(String(res.headers.location));
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(url.searchParams.get('state')).toBe('original');
    const token = await redeem(p.tokens, url.searchParams.get('code') as string);
    expect(token.statusCode).toBe(200);
    expect(token.json().scope).toBe('app:read');
  });

  it('double submit: a decision posted twice yields one code at most', async () => {
    const grace = await signedIn(p.ui);
    const { requestId, appId, csrf } = await consent(grace);
    const before = await codeKeys();
    const fields = { _csrf: csrf, request_id: requestId, app_id: appId, decision: 'allow' };
    const [a, b] = await Promise.all([grace.post('/oauth/decision', fields), grace.post('/oauth/decision', fields)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([303, 400]);
    expect(heading((a.statusCode === 400 ? a : b).body)).toBe('This request has expired');
    expect(await codeKeys()).toBe(before + 1);
  });

  it('scope escalation: a scope the client is not allowed is refused at authorize with invalid_scope, no request stored', async () => {
    const grace = await signedIn(p.ui);
    const before = (await redisKeys(p.redis, 'areq:*')).length;
    const res = await grace.get(authorizeUrl({ scope: 'app:read admin:everything', state: 'z' }));
    expect(res.statusCode).toBe(302);
    const url = new URL(String(res.headers.location));
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(url.searchParams.get('error')).toBe('invalid_scope');
    expect(url.searchParams.get('iss')).toBe(ISSUER);
    expect((await redisKeys(p.redis, 'areq:*')).length).toBe(before);
  });
});

describe('framing, CSP, referrer', () => {
  async function pages(): Promise<[string, LightMyRequestResponse][]> {
    const anon = new Browser(p.ui);
    const ada = await signedIn(p.ui, ADA);
    const grace = await signedIn(p.ui);
    return [
      ['login', await anon.get('/login')],
      ['signed-out', await anon.get('/signed-out')],
      ['error page', await anon.get('/oauth/authorize?client_id=nobody')],
      ['not found', await anon.get('/no/such/page')],
      ['home', await grace.get('/')],
      ['consent', (await consent(grace)).page],
      ['app picker', await ada.get(authorizeUrl())],
    ];
  }

  it('clickjacking: every page carries X-Frame-Options DENY and CSP frame-ancestors none', async () => {
    for (const [name, res] of await pages()) {
      expect([name, res.headers['x-frame-options']]).toEqual([name, 'DENY']);
      // The consent page also lets its form's redirect reach the partner's registered origin, and nothing else.
      const expected = name === 'consent' ? CSP.replace("form-action 'self'", "form-action 'self' http://localhost:4000") : CSP;
      expect([name, res.headers['content-security-policy']]).toEqual([name, expected]);
    }
  });

  it('strict CSP: no inline script, no inline handlers, no third-party stylesheet or script on any page', async () => {
    for (const [name, res] of await pages()) {
      expect([name, res.headers['content-type']]).toEqual([name, 'text/html; charset=utf-8']);
      expect([name, /<script/i.test(res.body)]).toEqual([name, false]);
      expect([name, /\son[a-z]+\s*=/i.test(res.body)]).toEqual([name, false]);
      expect([name, /style="/i.test(res.body)]).toEqual([name, false]);
      for (const [, href] of res.body.matchAll(/<link[^>]*href="([^"]*)"/g)) {
        expect([name, ['/static/app.css', '/static/favicon.svg'].includes(href ?? '')]).toEqual([name, true]);
      }
    }
  });

  it('CSP injection: a redirect URI whose host carries `;frame-ancestors` (stored before the registry refused it) adds nothing to the consent page’s CSP', async () => {
    await addClient(p.t.db, 'csp-probe', { redirect_uris: ['https://a.example;frame-ancestors/cb'] });
    const browser = await signedIn(p.ui);
    const page = await browser.get(authorizeUrl({ client_id: 'csp-probe' }));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CSP);
  });

  it('CSP source: a registered partner origin is added to form-action from its parsed parts, port included', async () => {
    await addClient(p.t.db, 'csp-port', { redirect_uris: ['https://Partner.Example:8443/cb?x=1'] });
    const browser = await signedIn(p.ui);
    const page = await browser.get(authorizeUrl({ client_id: 'csp-port' }));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(
      CSP.replace("form-action 'self'", "form-action 'self' https://partner.example:8443"),
    );
  });

  it('referrer leak: every page carries Referrer-Policy no-referrer and is never cached', async () => {
    for (const [name, res] of await pages()) {
      expect([name, res.headers['referrer-policy']]).toEqual([name, 'no-referrer']);
      expect([name, res.headers['cache-control']]).toEqual([name, 'no-store']);
    }
  });
});

describe('XSS through partner metadata', () => {
  it('stored XSS: script in the partner’s name, description and logo URL is rendered escaped on the consent page', async () => {
    const created = await registryPost(p.registry, '/v1/clients', {
      client_name: '<script>alert("name")</script>',
      description: '<img src=x onerror=alert(1)>',
      logo_uri: 'https://cdn.example/logo.png"onerror="alert(1)',
      redirect_uris: ['https://xss.example/callback'],
    });
    expect(created.statusCode).toBe(201);
    const clientId = created.json().client_id as string;
    // A website the registry would refuse, planted in storage: the page must not make it a link.
    await updateClient(p.t.db, clientId, { client_uri: 'javascript:alert(document.cookie)' });
    const grace = await signedIn(p.ui);
    const res = await grace.get(`/oauth/authorize?client_id=${clientId}&response_type=code`);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('<script>alert');
    expect(res.body).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(res.body).not.toContain('<img src=x');
    expect(res.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(res.body).toContain('src="https://cdn.example/logo.png&quot;onerror=&quot;alert(1)"');
    expect(res.body).not.toMatch(/onerror="/);
    expect(res.body).not.toContain('javascript:');
  });
});

describe('open redirect through return_to', () => {
  const attempts: [string, string][] = [
    ['protocol-relative //evil.example', '//evil.example/'],
    ['backslash /\\evil.example', '/\\evil.example/'],
    ['scheme without slashes https:evil.example', 'https:evil.example'],
    ['absolute https://evil.example', 'https://evil.example/'],
    ['javascript: URI', 'javascript:alert(1)'],
    ['encoded slashes /%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ['encoded backslash /%5Cevil.example', '/%5Cevil.example'],
    ['a tab between the slashes /\\t/evil.example', '/\t/evil.example'],
    ['an encoded tab /%09/evil.example', '/%09/evil.example'],
    ['CR/LF header injection', '/\r\nLocation: https://evil.example/'],
    ['a dot segment /.//evil.example', '/.//evil.example'],
    ['a parent segment /..//evil.example', '/..//evil.example'],
    ['an encoded parent segment /%2e%2e//evil.example', '/%2e%2e//evil.example'],
    ['a segment and its parent /a/..//evil.example', '/a/..//evil.example'],
    ['mixed-case encoded dots /%2E./%2e//evil.example', '/%2E./%2e//evil.example'],
  ];
  for (const [attack, returnTo] of attempts) {
    it(`return_to: ${attack} is replaced by / (303, same origin)`, async () => {
      const browser = new Browser(p.ui);
      const page = await browser.get(`/login?return_to=${encodeURIComponent(returnTo)}`);
      expect(page.statusCode).toBe(200);
      expect(hidden(page.body, 'return_to')).toBe('/');
      const res = await browser.post('/login', { ...GRACE, return_to: returnTo, _csrf: hidden(page.body, '_csrf') });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/');
    });
  }
});

describe('redirect status after POST', () => {
  it('303 after POST: login, decision (allow and deny) and logout never answer 307 or 308', async () => {
    const browser = new Browser(p.ui);
    const login = await browser.login(GRACE.email, GRACE.password, authorizeUrl({ state: 's' }));
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe(authorizeUrl({ state: 's' }));
    const allow = await consent(browser, { state: 's' });
    const allowed = await browser.post('/oauth/decision', {
      _csrf: allow.csrf,
      request_id: allow.requestId,
      app_id: allow.appId,
      decision: 'allow',
    });
    expect(allowed.statusCode).toBe(303);
    const deny = await consent(browser, { state: 'd' });
    const denied = await browser.post('/oauth/decision', {
      _csrf: deny.csrf,
      request_id: deny.requestId,
      app_id: deny.appId,
      decision: 'deny',
    });
    expect(denied.statusCode).toBe(303);
    expect(denied.headers.location).toBe(`${CALLBACK}?error=access_denied&state=d&iss=${encodeURIComponent(ISSUER)}`);
    const logout = await browser.post('/logout', { _csrf: hidden((await browser.get('/')).body, '_csrf') });
    expect(logout.statusCode).toBe(303);
    expect(logout.headers.location).toBe('/signed-out');
    // Denying minted nothing.
    expect(await countTokens(p.t.db, sha256('none'))).toBe(0);
  });
});
