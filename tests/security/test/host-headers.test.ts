// RFC 9700 §4.x (mix-up, RFC 9207), RFC 8414 §3: forged Host and X-Forwarded-* never change a redirect, a form, `iss` or the metadata.
import { authorizationServerMetadata } from '@partner-oauth/contracts';
import { Browser, hidden } from '@partner-oauth/test-support/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  CALLBACK,
  consent,
  GRACE,
  ISSUER,
  introspect,
  issueCode,
  type Product,
  redeem,
  startProduct,
} from './support/product.js';

let p: Product;

beforeAll(async () => {
  p = await startProduct();
});
afterAll(async () => p.close());

const FORGED = {
  host: 'evil.example',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  forwarded: 'host=evil.example;proto=https',
};
const METADATA = authorizationServerMetadata({ issuer: ISSUER, tokenServiceUrl: 'http://localhost:3001' });

describe('forged Host and X-Forwarded-* headers', () => {
  it('forged Host: the redirect to the login page stays relative to our own origin', async () => {
    const res = await p.ui.inject({ method: 'GET', url: authorizeUrl({ state: 's' }), headers: FORGED });
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toMatch(/^\/login\?return_to=/);
  });

  it('forged Host: the login and consent forms post to our own paths and the pages never name the forged host', async () => {
    const browser = new Browser(p.ui, FORGED);
    const login = await browser.get('/login');
    expect(login.body).toContain('action="/login"');
    expect(login.body).not.toContain('evil.example');
    const res = await browser.post('/login', { ...GRACE, return_to: '/', _csrf: hidden(login.body, '_csrf') });
    expect(res.headers.location).toBe('/');
    const { page } = await consent(browser);
    expect(page.body).toContain('action="/oauth/decision"');
    expect(page.body).not.toContain('evil.example');
  });

  it('forged Host: the authorization response goes to the registered URI with the configured iss', async () => {
    const browser = new Browser(p.ui, FORGED);
    await browser.login(GRACE.email, GRACE.password);
    const { requestId, appId, csrf } = await consent(browser, { state: 'st' });
    const res = await browser.post('/oauth/decision', { _csrf: csrf, request_id: requestId, app_id: appId, decision: 'allow' });
    expect(res.statusCode).toBe(303);
    const url = new URL(String(res.headers.location));
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(url.searchParams.get('iss')).toBe(ISSUER);
    expect(url.searchParams.get('state')).toBe('st');
  });

  it('forged Host: the error redirect carries the configured iss', async () => {
    const res = await p.ui.inject({ method: 'GET', url: authorizeUrl({ response_type: 'token', state: 'e' }), headers: FORGED });
    expect(res.statusCode).toBe(302);
    const url = new URL(String(res.headers.location));
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(url.searchParams.get('iss')).toBe(ISSUER);
  });

  it('forged Host: the metadata of authorize-ui and token-service is the configured document', async () => {
    for (const app of [p.ui, p.tokens]) {
      const res = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server', headers: FORGED });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(METADATA);
      expect(res.body).not.toContain('evil.example');
    }
  });

  it('forged Host: introspection names the configured issuer', async () => {
    const browser = new Browser(p.ui);
    await browser.login(GRACE.email, GRACE.password);
    const token = (await redeem(p.tokens, await issueCode(browser), {})).json().access_token as string;
    const res = await p.tokens.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: {
        ...FORGED,
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('platform-api:platform-api-secret').toString('base64')}`,
      },
      payload: `token=${token}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ active: true, iss: ISSUER });
    expect(await introspect(p.tokens, token)).toMatchObject({ iss: ISSUER });
  });

  it('forged X-Forwarded-Proto: without TRUST_PROXY the session cookie is not made Secure nor renamed', async () => {
    const browser = new Browser(p.ui, FORGED);
    const res = await browser.login(GRACE.email, GRACE.password);
    const cookie = [res.headers['set-cookie']].flat()[0] as string;
    expect(cookie).toMatch(/^sid=/);
    expect(cookie).not.toContain('Secure');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});
