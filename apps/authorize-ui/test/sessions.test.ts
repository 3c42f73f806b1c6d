// Session limits and sign-in throttling, on a fake clock and real Redis.
import { sessionKey } from '@partner-oauth/ephemeral-store';
import { FakeClock } from '@partner-oauth/service-kit';
import { Browser, hidden } from '@partner-oauth/test-support/browser';
import { describe, expect, it } from 'vitest';
import { useApp } from './helpers.js';

const clock = new FakeClock();
const AUTHORIZE = '/oauth/authorize?client_id=shoplifter&response_type=code';
const h = useApp({
  env: { SESSION_IDLE_SECONDS: '600', SESSION_ABSOLUTE_SECONDS: '3600', LOGIN_RATE_LIMIT_PER_MINUTE: '8', LOGIN_FAILURES_PER_ACCOUNT: '3' },
  clock,
});

/** The authorization request as the browser makes it: 200 when signed in, else the sign-in redirect; anything else fails. */
async function signedIn(browser: Browser): Promise<boolean> {
  const res = await browser.get(AUTHORIZE);
  if (res.statusCode === 200) return true;
  // An ended session answers as if there never was one (before: a 500, which the old `=== 200` check read as signed out).
  expect([res.statusCode, String(res.headers.location)]).toEqual([302, `/login?return_to=${encodeURIComponent(AUTHORIZE)}`]);
  return false;
}

describe('session lifetime', () => {
  it('ends after the idle limit', async () => {
    const browser = new Browser(h.app);
    await browser.login('grace@example.com', 'hopper-1906');
    clock.advance(590_000);
    expect(await signedIn(browser)).toBe(true);
    clock.advance(590_000);
    expect(await signedIn(browser)).toBe(true);
    clock.advance(601_000);
    expect(await signedIn(browser)).toBe(false);
  });

  it('ends after the absolute limit however active', async () => {
    const browser = new Browser(h.app);
    await browser.login('grace@example.com', 'hopper-1906');
    for (let i = 0; i < 7; i++) {
      clock.advance(500_000);
      expect(await signedIn(browser)).toBe(true);
    }
    clock.advance(200_000);
    expect(await signedIn(browser)).toBe(false);
  });
});

/** The Redis key (under the file's prefix) of the browser's session, from its signed cookie (`<id>.<signature>`). */
function browserSessionKey(browser: Browser): string {
  const signed = decodeURIComponent(browser.cookies.get('sid') ?? '');
  const id = signed.slice(0, signed.lastIndexOf('.'));
  expect(id).not.toBe('');
  return sessionKey(id);
}

describe('session writes', () => {
  it('are made when the session changes, not on every page: once a minute of use at most, each renewing its expiry', async () => {
    const browser = new Browser(h.app);
    await browser.login('grace@example.com', 'hopper-1906');
    // The first page after sign-in stores the session's CSRF secret: a change, so a write.
    expect(await signedIn(browser)).toBe(true);
    const key = browserSessionKey(browser);
    const redis = h.redis.store.redis;
    expect(await redis.get(key)).toContain('"_csrf"');
    // A marker expiry: a write of the session (its store sets the idle limit, 600 s) would replace it.
    await redis.pexpire(key, 123_456);
    clock.advance(30_000);
    expect(await signedIn(browser)).toBe(true);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(123_456);
    clock.advance(31_000);
    // More than a minute since the last touch: the session's lastSeen moves, and the session is written with it.
    const res = await browser.get(AUTHORIZE);
    expect(res.statusCode).toBe(200);
    expect(await redis.pttl(key)).toBeGreaterThan(590_000);
    // The cookie is sent again with the write, its expiry (real time, as the store's) renewed with it.
    const cookie = res.cookies.find((c) => c.name === 'sid');
    expect(cookie?.expires?.getTime()).toBeGreaterThan(Date.now() + 590_000);
    expect(await redis.get(key)).toContain(`"lastSeen":${clock.now()}`);
  });
});

describe('sign-in throttling', () => {
  it('throttles an account after repeated failures, even with the right password, with Retry-After', async () => {
    const browser = new Browser(h.app);
    for (let i = 0; i < 3; i++) expect((await browser.login('ada@example.com', 'wrong')).statusCode).toBe(401);
    const res = await browser.login('ada@example.com', 'lovelace-1815');
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.body).toContain('Too many attempts');
    expect(res.headers.location).toBeUndefined();
    expect(await signedIn(browser)).toBe(false);
    // Another account is not affected.
    expect((await browser.login('grace@example.com', 'hopper-1906')).statusCode).toBe(303);
  });

  it('limits sign-in attempts per address with 429 and Retry-After', async () => {
    const browser = new Browser(h.app);
    const page = await browser.get('/login');
    const token = hidden(page.body, '_csrf');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await browser.post('/login', { email: `x${i}@example.com`, password: 'nope', _csrf: token });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(res.body).toContain('Too many attempts');
      }
    }
    expect(statuses.at(-1)).toBe(429);
  });
});
