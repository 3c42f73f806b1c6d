// Codes that outlive their grant (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5): a code redeems only while what it was issued
// under still holds: the integration, the client's status, its redirect URI and its secret.
import { sha256 } from '@partner-oauth/service-kit';
import { type Browser, hidden } from '@partner-oauth/test-support/browser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  addClient,
  basic,
  CALLBACK,
  countTokens,
  introspect,
  issueCode,
  type Product,
  postForm,
  redeem,
  signedIn,
  startProduct,
  tokenInfoStatus,
} from './support/product.js';

let p: Product;
let browser: Browser;

beforeAll(async () => {
  p = await startProduct();
});
afterAll(async () => p.close());
beforeEach(async () => {
  browser = await signedIn(p.ui);
});

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description: 'the code is invalid, expired, already used or was issued to another client',
};

const admin = (method: 'PATCH' | 'DELETE' | 'POST', url: string, body?: unknown) =>
  p.registry.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      'if-match': '*',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

const liveAuthorizations = async (clientId: string) =>
  p.t.db.selectFrom('authorizations').select('id').where('client_id', '=', clientId).where('revoked_at', 'is', null).execute();

describe('codes that outlive their grant', () => {
  it('integration removed: a code issued before the owner removed the integration is refused, and no live authorization is made', async () => {
    const first = await redeem(p.tokens, await issueCode(browser));
    expect(first.statusCode).toBe(200);
    const pending = await issueCode(browser);
    // The owner removes the integration from /integrations, as a person would.
    const page = await browser.get('/integrations');
    expect(page.statusCode).toBe(200);
    const removed = await browser.post('/integrations/remove', {
      _csrf: hidden(page.body, '_csrf'),
      authorization_id: hidden(page.body, 'authorization_id'),
    });
    expect(removed.statusCode).toBe(303);
    expect(await liveAuthorizations('shoplifter')).toEqual([]);

    const late = await redeem(p.tokens, pending);
    expect(late.statusCode).toBe(400);
    expect(late.json()).toEqual(INVALID_GRANT);
    expect(await liveAuthorizations('shoplifter')).toEqual([]);
    // Consenting again after the removal works.
    expect((await redeem(p.tokens, await issueCode(browser))).statusCode).toBe(200);
  });

  it('redirect URI removed: a code issued for a URI no longer registered is refused with no token', async () => {
    const other = 'https://second.example/callback';
    expect((await admin('PATCH', '/v1/clients/shoplifter', { redirect_uris: [CALLBACK, other] })).statusCode).toBe(200);
    const code = await issueCode(browser, { redirect_uri: other });
    expect((await admin('PATCH', '/v1/clients/shoplifter', { redirect_uris: [CALLBACK] })).statusCode).toBe(200);
    const res = await redeem(p.tokens, code, { redirect_uri: other });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(INVALID_GRANT);
    expect(await countTokens(p.t.db, sha256(code))).toBe(0);
  });

  it('disable is a kill switch: tokens end for good, a code from before does not redeem after re-enabling, owners consent again', async () => {
    const token = (await redeem(p.tokens, await issueCode(browser))).json().access_token as string;
    const pending = await issueCode(browser);
    expect((await admin('PATCH', '/v1/clients/shoplifter', { status: 'disabled' })).statusCode).toBe(200);
    expect(await tokenInfoStatus(p.tokens, token)).toBe(401);
    expect((await admin('PATCH', '/v1/clients/shoplifter', { status: 'active' })).statusCode).toBe(200);

    expect(await tokenInfoStatus(p.tokens, token)).toBe(401);
    expect(await introspect(p.tokens, token)).toEqual({ active: false });
    expect(await liveAuthorizations('shoplifter')).toEqual([]);
    const late = await redeem(p.tokens, pending);
    expect(late.statusCode).toBe(400);
    expect(late.json()).toEqual(INVALID_GRANT);
    expect(await liveAuthorizations('shoplifter')).toEqual([]);
    // A new consent after re-enabling works.
    const again = await redeem(p.tokens, await issueCode(browser));
    expect(again.statusCode).toBe(200);
    expect(await tokenInfoStatus(p.tokens, again.json().access_token)).toBe(200);
  });

  it('secret rotated without overlap: a code issued before is refused even with the new secret', async () => {
    const pending = await issueCode(browser);
    const rotated = await admin('POST', '/v1/clients/shoplifter/secrets', { old_secret_expires_in: 0 });
    expect(rotated.statusCode).toBe(201);
    const secret = rotated.json().client_secret as string;
    const res = await postForm(p.tokens, '/oauth/token', {
      grant_type: 'authorization_code',
      code: pending,
      client_id: 'shoplifter',
      client_secret: secret,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(INVALID_GRANT);
    // With an overlap the partner is rotating in good order: its codes in flight still redeem.
    const next = await issueCode(browser);
    const overlapped = await admin('POST', '/v1/clients/shoplifter/secrets', { old_secret_expires_in: 3600 });
    expect(overlapped.statusCode).toBe(201);
    const ok = await postForm(
      p.tokens,
      '/oauth/token',
      { grant_type: 'authorization_code', code: next },
      { authorization: basic('shoplifter', secret) },
    );
    expect(ok.statusCode).toBe(200);
    // Back to the suite's secret for any later case.
    await p.t.db.updateTable('client_secrets').set({ revoked_at: null, expires_at: null }).where('client_id', '=', 'shoplifter').execute();
  });

  it('client deleted: a code issued before the delete does not redeem (the client is gone)', async () => {
    const doomed = await addClient(p.t.db, 'doomed', { redirect_uris: ['https://doomed.example/callback'] });
    const code = await issueCode(browser, { client_id: 'doomed' });
    expect((await admin('DELETE', '/v1/clients/doomed')).statusCode).toBe(204);
    const res = await postForm(p.tokens, '/oauth/token', { grant_type: 'authorization_code', code, ...doomed });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('invalid_client');
  });
});
