// Property-based fuzzing (fast-check) of GET /oauth/authorize and POST /oauth/token: no input yields a 5xx or a foreign redirect.

import type { Browser } from '@partner-oauth/test-support/browser';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, CALLBACK, countTokens, type Product, signedIn, startProduct } from './support/product.js';

let p: Product;
let browser: Browser;

beforeAll(async () => {
  p = await startProduct();
  browser = await signedIn(p.ui);
});
afterAll(async () => p.close());

const RUNS = 300;

const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 8 });
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const huge = fc.integer({ min: 4_000, max: 40_000 }).map((n) => 'x'.repeat(n));
const value = fc.oneof(
  fc.constantFrom('shoplifter', 'code', 'token', CALLBACK, `${CALLBACK}/`, 'https://evil.example/cb', 'S256', 'plain', 'app:read', ''),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  controlChars,
  huge,
);
const authorizeKey = fc.oneof(
  fc.constantFrom('client_id', 'response_type', 'redirect_uri', 'state', 'scope', 'code_challenge', 'code_challenge_method'),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** Raw query text with broken percent-escapes, bare separators and plus signs. */
const rawQuery = fc.string({ unit: fc.constantFrom('%', 'F', 'f', '0', 'z', '&', '=', '+', 'a', ';', '?', '#', '/', '\\'), maxLength: 60 });

const authorizeQuery = fc.oneof(
  fc.tuple(fc.boolean(), fc.array(fc.tuple(authorizeKey, value), { maxLength: 8 })).map(([withClient, pairs]) => {
    const query = new URLSearchParams(withClient ? [['client_id', 'shoplifter']] : []);
    for (const [k, v] of pairs) query.append(k, v);
    return query.toString();
  }),
  rawQuery.map((raw) => `client_id=shoplifter&${raw}`),
  rawQuery,
);

/** Where a redirect may lead: the registered URI (exactly) or our own login page. */
function expectSafeLocation(location: string | undefined) {
  if (location === undefined) return;
  if (location.startsWith('/login?')) return;
  const url = new URL(location);
  expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
  expect(location.startsWith(`${CALLBACK}?`)).toBe(true);
}

describe('fuzzing', () => {
  it(`fuzz GET /oauth/authorize (${RUNS} runs signed out, ${RUNS} signed in): never a 5xx, never a foreign Location`, async () => {
    for (const cookie of [undefined, browser.cookieHeader()]) {
      await fc.assert(
        fc.asyncProperty(authorizeQuery, async (query) => {
          const res = await p.ui.inject({ method: 'GET', url: `/oauth/authorize?${query}`, headers: cookie ? { cookie } : {} });
          expect(res.statusCode).toBeLessThan(500);
          expect([200, 302, 400]).toContain(res.statusCode);
          expectSafeLocation(res.headers.location as string | undefined);
          if (res.statusCode !== 302) expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        }),
        { numRuns: RUNS },
      );
    }
  });

  it(`fuzz POST /oauth/token (${RUNS} runs): arbitrary bodies and content types never yield a 5xx or a token`, async () => {
    const tokenKey = fc.oneof(
      fc.constantFrom('grant_type', 'code', 'client_id', 'client_secret', 'redirect_uri', 'code_verifier'),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    const tokenValue = fc.oneof(value, fc.constantFrom('authorization_code', 'secret', 'shoplifter'));
    const formBody = fc.tuple(fc.boolean(), fc.array(fc.tuple(tokenKey, tokenValue), { maxLength: 8 })).map(([withCreds, pairs]) => {
      const body = new URLSearchParams(
        withCreds
          ? [
              ['client_id', 'shoplifter'],
              ['client_secret', 'secret'],
              ['grant_type', 'authorization_code'],
            ]
          : [],
      );
      for (const [k, v] of pairs) body.append(k, v);
      return body.toString();
    });
    const payload = fc.oneof(
      formBody,
      rawQuery,
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.dictionary(tokenKey, fc.oneof(tokenValue, fc.integer(), fc.constant(null), fc.array(fc.string()))).map((o) => JSON.stringify(o)),
    );
    const contentType = fc.oneof(
      fc.constantFrom(
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=utf-8',
        'application/x-www-form-urlencoded; charset=latin1',
        'application/json',
        'text/plain',
        'multipart/form-data; boundary=x',
        'application/xml',
      ),
      printable,
    );
    const authorization = fc.option(
      fc.oneof(
        fc.constant(basic('shoplifter', 'secret')),
        printable.map((s) => `Basic ${s}`),
        printable,
      ),
      { nil: undefined },
    );

    await fc.assert(
      fc.asyncProperty(payload, contentType, authorization, async (body, type, auth) => {
        const headers: Record<string, string> = { 'content-type': type };
        if (auth !== undefined) headers.authorization = auth;
        const res = await p.tokens.inject({ method: 'POST', url: '/oauth/token', headers, payload: body });
        expect(res.statusCode).toBeLessThan(500);
        expect(res.statusCode).not.toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.json()).toEqual({ error: expect.any(String), error_description: expect.any(String) });
      }),
      { numRuns: RUNS },
    );
    expect(await countTokens(p.t.db)).toBe(0);
  });
});
