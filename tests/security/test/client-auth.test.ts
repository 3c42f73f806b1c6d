// RFC 6749 §2.3.1, §3.2.1, §10.2, RFC 7009 §2.1, RFC 7662 §2.1: attacks on client authentication.
import { sha256 } from '@partner-oauth/service-kit';
import { updateClient } from '@partner-oauth/storage';
import type { Browser } from '@partner-oauth/test-support/browser';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addClient,
  basic,
  countTokens,
  introspect,
  issueCode,
  type Product,
  postForm,
  redeem,
  SHOPLIFTER,
  signedIn,
  startProduct,
  tokenInfoStatus,
} from './support/product.js';

let p: Product;
let browser: Browser;
let other: { client_id: string; client_secret: string };
let code: string;

beforeAll(async () => {
  p = await startProduct();
  other = await addClient(p.t.db, 'other-partner');
  browser = await signedIn(p.ui);
  // One code every attack here tries to steal; it must still be redeemable by its owner at the end.
  code = await issueCode(browser);
});
afterAll(async () => p.close());

const FAILED = { error: 'invalid_client', error_description: 'client authentication failed' };
const REQUIRED = { error: 'invalid_client', error_description: 'client authentication required' };
const MALFORMED = { error: 'invalid_client', error_description: 'malformed Basic authorization header' };
const CHALLENGE = 'Basic realm="oauth", charset="UTF-8"';

const token = (fields: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
  postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...fields }, headers);

/** What a response shows an attacker: everything but the per-request headers. */
function visible(res: LightMyRequestResponse) {
  const { date: _d, 'x-request-id': _r, 'content-length': _l, ...headers } = res.headers;
  return { status: res.statusCode, headers, body: res.body };
}

async function expectNoToken() {
  expect(await countTokens(p.t.db, sha256(code))).toBe(0);
}

describe('client authentication at POST /oauth/token', () => {
  it('client auth: a wrong secret (post) is refused with 401 invalid_client', async () => {
    const res = await token({ client_id: 'shoplifter', client_secret: 'not-the-secret' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(FAILED);
    expect(res.headers['www-authenticate']).toBeUndefined();
    await expectNoToken();
  });

  it('client auth: a wrong secret (Basic) is refused with 401 and the Basic challenge', async () => {
    const res = await token({}, { authorization: basic('shoplifter', 'not-the-secret') });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(FAILED);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    await expectNoToken();
  });

  it('client auth: a missing secret is refused with 401 invalid_client', async () => {
    const res = await token({ client_id: 'shoplifter' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(REQUIRED);
    await expectNoToken();
  });

  it('client auth: an empty secret is refused with 401 invalid_client', async () => {
    const res = await token({ client_id: 'shoplifter', client_secret: '' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(REQUIRED);
    await expectNoToken();
  });

  it('client auth: no credentials at all are refused with 401 invalid_client', async () => {
    const res = await token({});
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(REQUIRED);
    await expectNoToken();
  });

  it('client auth: Basic and client_secret in the body together are refused with invalid_request', async () => {
    const res = await token({ client_secret: 'secret' }, { authorization: basic('shoplifter', 'secret') });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'use one client authentication method, not several' });
    await expectNoToken();
  });

  it('client auth: a client_secret repeated in the body is refused with invalid_request', async () => {
    const res = await token({ client_id: 'shoplifter', client_secret: ['wrong', 'secret'] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'parameter client_secret is repeated' });
    await expectNoToken();
  });

  it('client auth: a client_id repeated in the body is refused with invalid_request', async () => {
    const res = await token({ client_id: ['other-partner', 'shoplifter'], client_secret: 'secret' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'parameter client_id is repeated' });
    await expectNoToken();
  });

  it('client auth: Basic for one client with client_id of another in the body is refused', async () => {
    const res = await token({ client_id: 'shoplifter' }, { authorization: basic(other.client_id, other.client_secret) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'client_id does not match the authenticated client' });
    await expectNoToken();
  });

  for (const [what, header] of [
    ['not base64', 'Basic !!!not-base64!!!'],
    ['without a colon', `Basic ${Buffer.from('shoplifter').toString('base64')}`],
    ['with an empty client id', `Basic ${Buffer.from(':secret').toString('base64')}`],
    ['with broken percent-encoding', `Basic ${Buffer.from('shop%zzlifter:secret').toString('base64')}`],
    ['with nothing after the scheme', 'Basic '],
  ] as const) {
    it(`client auth: a malformed Basic header (${what}) is refused with 401 and the Basic challenge`, async () => {
      const res = await token({}, { authorization: header });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(MALFORMED);
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
      await expectNoToken();
    });
  }

  it('client auth: an unknown client gets exactly the wrong-secret answer (nothing tells which ids exist)', async () => {
    const wrongSecret = await token({ client_id: 'shoplifter', client_secret: 'guess' });
    const unknown = await token({ client_id: 'no-such-client', client_secret: 'guess' });
    expect(visible(unknown)).toEqual(visible(wrongSecret));
    const wrongBasic = await token({}, { authorization: basic('shoplifter', 'guess') });
    const unknownBasic = await token({}, { authorization: basic('no-such-client', 'guess') });
    expect(visible(unknownBasic)).toEqual(visible(wrongBasic));
    await expectNoToken();
  });

  it('client auth: a secret of the right length but one wrong character gets the same answer (digests compared in constant time)', async () => {
    const oneOff = await token({ client_id: 'shoplifter', client_secret: 'secreT' });
    const unrelated = await token({ client_id: 'shoplifter', client_secret: 'x'.repeat(200) });
    expect(visible(oneOff)).toEqual(visible(unrelated));
    expect(oneOff.json()).toEqual(FAILED);
  });

  it('client auth: another client’s valid secret does not authenticate shoplifter', async () => {
    const res = await token({ client_id: 'shoplifter', client_secret: other.client_secret });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(FAILED);
    await expectNoToken();
  });

  it('client auth: a disabled client with its correct secret gets the unknown-client answer and no token', async () => {
    const disabled = await addClient(p.t.db, 'disabled-partner');
    await updateClient(p.t.db, disabled.client_id, { status: 'disabled' });
    const res = await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code: 'c'.repeat(43), ...disabled });
    const unknown = await postForm(p.tokens, '/oauth/token', {
      grant_type: 'authorization_code',
      code: 'c'.repeat(43),
      client_id: 'no-such-client',
      client_secret: disabled.client_secret,
    });
    expect(visible(res)).toEqual(visible(unknown));
    expect(res.json()).toEqual(FAILED);
  });

  it('client auth: repeated failures are throttled per client and address with 429 and Retry-After, the right secret too', async () => {
    const tokens = await p.extraTokens({ CLIENT_AUTH_FAILURES_PER_MINUTE: '3' });
    const other2 = await addClient(p.t.db, 'throttled-partner');
    const attempt = (secret: string, forwardedFor: string) =>
      postForm(
        tokens,
        '/oauth/token',
        { grant_type: 'authorization_code', code: 'c'.repeat(43), client_id: other2.client_id, client_secret: secret },
        // Forged on every attempt: without TRUST_PROXY it must not give the attacker fresh addresses.
        { 'x-forwarded-for': forwardedFor },
      );
    for (let i = 0; i < 3; i++) expect((await attempt(`guess-${i}`, `203.0.113.${i}`)).statusCode).toBe(401);
    const res = await attempt(other2.client_secret, '203.0.113.99');
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(res.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'too many failed attempts; retry later' });
  });

  it('client auth: after every attack above, the code still works for its owner (no attacker burnt or used it)', async () => {
    const res = await redeem(p.tokens, code);
    expect(res.statusCode).toBe(200);
    expect(await countTokens(p.t.db, sha256(code))).toBe(1);
  });
});

describe('revocation and introspection', () => {
  it('token revocation by another client is refused with 400 unauthorized_client and the token keeps working (RFC 7009 §2.1)', async () => {
    const res = await redeem(p.tokens, await issueCode(browser));
    const accessToken = res.json().access_token as string;
    const revoke = await postForm(
      p.tokens,
      '/oauth/revoke',
      { token: accessToken },
      { authorization: basic(other.client_id, other.client_secret) },
    );
    expect(revoke.statusCode).toBe(400);
    expect(revoke.json()).toEqual({ error: 'unauthorized_client', error_description: 'the token was not issued to this client' });
    expect(revoke.headers['cache-control']).toBe('no-store');
    expect(await tokenInfoStatus(p.tokens, accessToken)).toBe(200);
    // An unknown token still answers 200 (§2.2), and the owner's own revocation still works.
    const unknown = await postForm(
      p.tokens,
      '/oauth/revoke',
      { token: 'poat_never-issued' },
      { authorization: basic(other.client_id, other.client_secret) },
    );
    expect(unknown.statusCode).toBe(200);
    const own = await postForm(p.tokens, '/oauth/revoke', { token: accessToken }, { authorization: basic('shoplifter', 'secret') });
    expect(own.statusCode).toBe(200);
    expect(await tokenInfoStatus(p.tokens, accessToken)).toBe(401);
  });

  it('token revocation with a wrong secret is refused with 401 and the token keeps working', async () => {
    const res = await redeem(p.tokens, await issueCode(browser));
    const accessToken = res.json().access_token as string;
    const revoke = await postForm(p.tokens, '/oauth/revoke', { token: accessToken, client_id: 'shoplifter', client_secret: 'guess' });
    expect(revoke.statusCode).toBe(401);
    expect(revoke.json()).toEqual(FAILED);
    expect(await tokenInfoStatus(p.tokens, accessToken)).toBe(200);
  });

  it('introspection by a partner client (not a resource server) is refused with 401', async () => {
    const res = await redeem(p.tokens, await issueCode(browser));
    const accessToken = res.json().access_token as string;
    const probe = await postForm(
      p.tokens,
      '/oauth/introspect',
      { token: accessToken },
      { authorization: basic('shoplifter', SHOPLIFTER.client_secret) },
    );
    expect(probe.statusCode).toBe(401);
    expect(probe.json()).toEqual({ error: 'invalid_client', error_description: 'resource server authentication failed' });
    expect(probe.headers['www-authenticate']).toBe('Basic realm="introspection", charset="UTF-8"');
    expect(await introspect(p.tokens, accessToken)).toMatchObject({ active: true, client_id: 'shoplifter' });
  });

  it('tokenInfo with a forged token prefix is refused with 401 invalid_token', async () => {
    const res = await p.tokens.inject({ method: 'GET', url: '/v2/tokenInfo', headers: { authorization: `Bearer poat_${'A'.repeat(43)}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' });
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="partner-oauth", error="invalid_token", error_description="the access token is invalid, expired or revoked"',
    );
  });
});
