// RFC 9700 §4.1-§4.2 and OWASP session management: cookie flags, fixation, logout, expiry, sign-in throttling.

import { Browser, heading, hidden } from '@partner-oauth/test-support/browser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, GRACE, type Product, redisKeys, signedIn, startProduct } from './support/product.js';

let p: Product;

beforeAll(async () => {
  p = await startProduct();
});
afterAll(async () => p.close());

/** Signed in means the authorize request reaches consent instead of the login page. */
async function isSignedIn(app: FastifyInstance, cookie: string): Promise<boolean> {
  const res = await app.inject({ method: 'GET', url: authorizeUrl(), headers: { cookie } });
  return res.statusCode === 200;
}

const setCookie = (res: { headers: Record<string, unknown> }): string[] => [res.headers['set-cookie'] ?? []].flat() as string[];

describe('session cookie', () => {
  it('session theft by script or cross-site request: the cookie is HttpOnly and SameSite=Lax', async () => {
    const browser = new Browser(p.ui);
    const res = await browser.login(GRACE.email, GRACE.password);
    const [cookie] = setCookie(res);
    expect(cookie).toMatch(/^sid=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
  });

  it('session theft over plain http: with an https issuer the cookie is __Host-sid, Secure, Path=/ without Domain, and HSTS is sent', async () => {
    // Behind the TLS-terminating proxy it is configured to trust.
    const ui = await p.extraUi({ ISSUER: 'https://auth.example', TRUST_PROXY: 'true' });
    const browser = new Browser(ui, { 'x-forwarded-proto': 'https' });
    const res = await browser.login(GRACE.email, GRACE.password);
    expect(res.statusCode).toBe(303);
    const [cookie] = setCookie(res);
    expect(cookie).toMatch(/^__Host-sid=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('session theft over plain http: with an https issuer no session cookie is ever sent on an http connection', async () => {
    const ui = await p.extraUi({ ISSUER: 'https://auth.example' });
    const browser = new Browser(ui);
    const page = await browser.get('/login');
    expect(page.statusCode).toBe(200);
    expect(page.headers['set-cookie']).toBeUndefined();
    const res = await browser.post('/login', { ...GRACE, return_to: '/', _csrf: hidden(page.body, '_csrf') });
    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('session fixation: the session id planted before login is replaced at login and stays signed out', async () => {
    const browser = new Browser(p.ui);
    const page = await browser.get('/login');
    const planted = browser.cookies.get('sid');
    expect(planted).toBeDefined();
    const res = await browser.post('/login', { ...GRACE, return_to: '/', _csrf: hidden(page.body, '_csrf') });
    expect(res.statusCode).toBe(303);
    const fresh = browser.cookies.get('sid');
    expect(fresh).toBeDefined();
    expect(fresh?.split('.')[0]).not.toBe(planted?.split('.')[0]);
    expect(await isSignedIn(p.ui, `sid=${planted}`)).toBe(false);
    expect(await isSignedIn(p.ui, `sid=${fresh}`)).toBe(true);
  });

  it('forged session cookie: an id the server never issued, or a valid id with a forged signature, is not a session', async () => {
    const browser = await signedIn(p.ui);
    const real = browser.cookies.get('sid') as string;
    const [id] = real.split('.');
    expect(await isSignedIn(p.ui, `sid=${id}.${'A'.repeat(43)}`)).toBe(false);
    expect(await isSignedIn(p.ui, `sid=${id}`)).toBe(false);
    expect(await isSignedIn(p.ui, `sid=${'x'.repeat(32)}.${'A'.repeat(43)}`)).toBe(false);
    expect(await isSignedIn(p.ui, `sid=${real}`)).toBe(true);
  });

  it('session replay after logout: logout destroys the server-side session, the old cookie signs nobody in', async () => {
    const browser = await signedIn(p.ui);
    const cookie = `sid=${browser.cookies.get('sid')}`;
    const sessionsBefore = (await redisKeys(p.redis, 'sess:*')).length;
    const res = await browser.post('/logout', { _csrf: hidden((await browser.get('/')).body, '_csrf') });
    expect(res.statusCode).toBe(303);
    expect((await redisKeys(p.redis, 'sess:*')).length).toBe(sessionsBefore - 1);
    expect(await isSignedIn(p.ui, cookie)).toBe(false);
  });

  it('session replay after idleness: a session unused past the idle limit (fake clock) is refused and destroyed', async () => {
    const browser = await signedIn(p.ui);
    const cookie = `sid=${browser.cookies.get('sid')}`;
    p.clock.advance(1_801_000);
    expect(await isSignedIn(p.ui, cookie)).toBe(false);
    p.clock.advance(-1_801_000);
    // Destroyed, not merely refused: turning the clock back does not revive it.
    expect(await isSignedIn(p.ui, cookie)).toBe(false);
  });

  it('session replay after the absolute limit: an active session still ends (fake clock)', async () => {
    const ui = await p.extraUi({ SESSION_IDLE_SECONDS: '600', SESSION_ABSOLUTE_SECONDS: '3600' });
    const browser = await signedIn(ui);
    const cookie = `sid=${browser.cookies.get('sid')}`;
    for (let i = 0; i < 7; i++) {
      p.clock.advance(500_000);
      expect(await isSignedIn(ui, cookie)).toBe(true);
    }
    p.clock.advance(200_000);
    expect(await isSignedIn(ui, cookie)).toBe(false);
  });
});

describe('sign-in throttling', () => {
  it('password guessing on one account: after the limit even the right password gets 429 with Retry-After and no session', async () => {
    const ui = await p.extraUi({ LOGIN_FAILURES_PER_ACCOUNT: '3' });
    const browser = new Browser(ui);
    for (let i = 0; i < 3; i++) expect((await browser.login(GRACE.email, `guess-${i}`)).statusCode).toBe(401);
    // Case and spaces do not make it another account.
    const res = await browser.login(`  ${GRACE.email.toUpperCase()} `, GRACE.password);
    expect(res.statusCode).toBe(429);
    expect(heading(res.body)).toBe('Too many attempts');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(res.headers.location).toBeUndefined();
    expect(await isSignedIn(ui, `sid=${browser.cookies.get('sid')}`)).toBe(false);
  });

  it('password spraying from one address: the per-address limit answers 429 with Retry-After, forged X-Forwarded-For does not help', async () => {
    const ui = await p.extraUi({ LOGIN_RATE_LIMIT_PER_MINUTE: '4' });
    const browser = new Browser(ui);
    const page = await browser.get('/login');
    const csrf = hidden(page.body, '_csrf');
    const statuses: number[] = [];
    let last = page;
    for (let i = 0; i < 5; i++) {
      last = await browser.post(
        '/login',
        { email: `user${i}@example.com`, password: 'Winter2024!', _csrf: csrf },
        { 'x-forwarded-for': `198.51.100.${i}` },
      );
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    expect(heading(last.body)).toBe('Too many attempts');
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(last.headers['retry-after'])).toBeLessThanOrEqual(60);
  });
});
