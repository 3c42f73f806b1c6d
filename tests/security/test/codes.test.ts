// RFC 6749 §4.1.2, §10.5, RFC 7636, RFC 9700 §2.1.1 and §4.5: attacks on authorization codes at the token endpoint.
import { createHash } from 'node:crypto';
import { sha256 } from '@partner-oauth/service-kit';
import type { Browser } from '@partner-oauth/test-support/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addClient,
  authorizeUrl,
  CALLBACK,
  countTokens,
  introspect,
  issueCode,
  type Product,
  postForm,
  redeem,
  redisKeys,
  SHOPLIFTER,
  signedIn,
  startProduct,
  tokenInfoStatus,
} from './support/product.js';

let p: Product;
let browser: Browser;
let other: { client_id: string; client_secret: string };

beforeAll(async () => {
  p = await startProduct();
  other = await addClient(p.t.db, 'other-partner');
  browser = await signedIn(p.ui);
});
afterAll(async () => p.close());

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'the code is invalid, expired, already used or was issued to another client',
};

const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const challenge = createHash('sha256').update(verifier).digest('base64url');

describe('authorization codes', () => {
  it('code replay: a second redemption is refused and the token from the first stops working', async () => {
    const code = await issueCode(browser);
    const first = await redeem(p.tokens, code);
    expect(first.statusCode).toBe(200);
    const token = first.json().access_token as string;
    expect(await tokenInfoStatus(p.tokens, token)).toBe(200);

    const second = await redeem(p.tokens, code);
    expect(second.statusCode).toBe(400);
    expect(second.json()).toEqual(INVALID_GRANT);
    expect(second.headers['cache-control']).toBe('no-store');
    expect(await tokenInfoStatus(p.tokens, token)).toBe(401);
    expect(await introspect(p.tokens, token)).toEqual({ active: false });
    expect(await countTokens(p.t.db, sha256(code))).toBe(1);
  });

  it('code race: 50 concurrent redemptions of one code mint one token at most, and none survives the race', async () => {
    const code = await issueCode(browser);
    const answers = await Promise.all(Array.from({ length: 50 }, () => redeem(p.tokens, code)));
    const ok = answers.filter((r) => r.statusCode === 200);
    const refused = answers.filter((r) => r.statusCode === 400);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(ok.length + refused.length).toBe(50);
    for (const r of refused) expect(r.json()).toEqual(INVALID_GRANT);
    // One GETDEL wins; the losers count as a replay. Whichever reaches Postgres first, no token from the code is live:
    // the winner's write, committed first, is revoked by a loser (who waited for it), or, marked first, writes nothing.
    expect(await countTokens(p.t.db, sha256(code))).toBeLessThanOrEqual(1);
    const live = await p.t.db
      .selectFrom('access_tokens')
      .select('id')
      .where('code_hash', '=', sha256(code))
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    for (const r of ok) expect(await tokenInfoStatus(p.tokens, r.json().access_token)).toBe(401);
  });

  it('code theft: another client redeeming shoplifter’s code gets invalid_grant and no token', async () => {
    const code = await issueCode(browser);
    const res = await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...other });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(INVALID_GRANT);
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  it('code burning: another partner presenting a leaked code does not consume it; its own client still redeems it, once', async () => {
    const code = await issueCode(browser);
    for (let i = 0; i < 3; i++) {
      const stolen = await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...other });
      expect(stolen.statusCode).toBe(400);
      expect(stolen.json()).toEqual(INVALID_GRANT);
    }
    expect(await redisKeys(p.redis, `code:${sha256(code)}`)).toEqual([`code:${sha256(code)}`]);
    const own = await redeem(p.tokens, code);
    expect(own.statusCode).toBe(200);
    const token = own.json().access_token as string;
    expect(await tokenInfoStatus(p.tokens, token)).toBe(200);
    // The replay rule stays: a second redemption by the rightful client ends what the first one got.
    expect((await redeem(p.tokens, code)).statusCode).toBe(400);
    expect(await tokenInfoStatus(p.tokens, token)).toBe(401);
  });

  it('code expiry: a code presented after its life (fake clock) is refused with no token', async () => {
    const code = await issueCode(browser);
    p.clock.advance(300_001);
    const res = await redeem(p.tokens, code);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(INVALID_GRANT);
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
    // A new session for the next tests: the old one may be idle past its limit now.
    browser = await signedIn(p.ui);
  });

  it('code brute force: guessing codes is throttled per client with 429 and Retry-After, even for a then-valid code', async () => {
    const tokens = await p.extraTokens({ INVALID_GRANTS_PER_MINUTE: '5' });
    await p.redis.store.del('throttle:invalid-grant:shoplifter');
    for (let i = 0; i < 5; i++) {
      const guess = await redeem(tokens, `guess-${i}-${'x'.repeat(40)}`);
      expect(guess.statusCode).toBe(400);
      expect(guess.json()).toEqual(INVALID_GRANT);
    }
    const code = await issueCode(browser);
    const res = await redeem(tokens, code);
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(res.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'too many failed attempts; retry later' });
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
    await p.redis.store.del('throttle:invalid-grant:shoplifter');
    // Held back, not consumed: once the window is over the code still redeems for its client.
    expect((await redeem(tokens, code)).statusCode).toBe(200);
  });

  it('PKCE downgrade: a code issued with a challenge is refused without code_verifier', async () => {
    const code = await issueCode(browser, { code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await redeem(p.tokens, code);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'a valid code_verifier is required' });
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  it('PKCE downgrade: a code_verifier for a code issued without a challenge is refused', async () => {
    const code = await issueCode(browser);
    const res = await redeem(p.tokens, code, { code_verifier: verifier });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier sent for a code issued without code_challenge',
    });
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  it('PKCE downgrade: code_challenge_method=plain is refused at authorize with an error redirect and no request stored', async () => {
    const before = (await redisKeys(p.redis, 'areq:*')).length;
    const res = await browser.get(authorizeUrl({ state: 'st', code_challenge: verifier, code_challenge_method: 'plain' }));
    expect(res.statusCode).toBe(302);
    const url = new URL(String(res.headers.location));
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge_method must be S256',
      state: 'st',
      iss: 'http://localhost:3000',
    });
    expect((await redisKeys(p.redis, 'areq:*')).length).toBe(before);
  });

  it('PKCE mismatch: a wrong code_verifier is refused and the code is burnt', async () => {
    const code = await issueCode(browser, { code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await redeem(p.tokens, code, { code_verifier: `${verifier.slice(0, -1)}A` });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({ error: 'invalid_grant', error_description: 'code_verifier does not match code_challenge' });
    const right = await redeem(p.tokens, code, { code_verifier: verifier });
    expect(right.statusCode).toBe(400);
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  it('redirect_uri mismatch: a code requested with redirect_uri is refused when the token request omits it', async () => {
    const code = await issueCode(browser, { redirect_uri: CALLBACK });
    const res = await redeem(p.tokens, code);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'redirect_uri does not match the authorization request' });
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  it('redirect_uri mismatch: a code is refused when the token request names another redirect_uri', async () => {
    const code = await issueCode(browser, { redirect_uri: CALLBACK });
    const res = await redeem(p.tokens, code, { redirect_uri: 'https://evil.example/callback' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'redirect_uri does not match the authorization request' });
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  it('codes at rest: Redis holds only the code’s SHA-256, never the code', async () => {
    const code = await issueCode(browser);
    const keys = await redisKeys(p.redis, 'code:*');
    expect(keys).toContain(`code:${sha256(code)}`);
    for (const key of keys) {
      expect(key).not.toContain(code);
      expect(await p.redis.store.get(key)).not.toContain(code);
    }
    expect((await redeem(p.tokens, code)).statusCode).toBe(200);
    expect(await redisKeys(p.redis, `code:${sha256(code)}`)).toEqual([]);
  });

  it('token request without any grant: unsupported grant_type mints nothing', async () => {
    const res = await postForm(p.tokens, '/oauth/token', {
      grant_type: 'password',
      username: 'grace@example.com',
      password: 'x',
      ...SHOPLIFTER,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unsupported_grant_type', error_description: 'grant_type password is not supported' });
  });
});
