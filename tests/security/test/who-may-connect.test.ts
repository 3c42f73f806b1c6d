// Who may connect a partner to an app: one rule for the app picker, the decision and /integrations, so nobody
// grants what they cannot see and take back (RFC 6749 §10.2's "resource owner" is the one who can revoke).
import { addAppMember } from '@partner-oauth/storage';
import { hidden } from '@partner-oauth/test-support/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, countTokens, GRACE, type Product, redisKeys, signedIn, startProduct } from './support/product.js';

let p: Product;
let sales: string;
let shop: string;

beforeAll(async () => {
  p = await startProduct();
  sales = p.t.ids.apps['Acme Sales'] as string;
  shop = p.t.ids.apps['Grace Shop'] as string;
  // Grace owns Grace Shop and is a plain member (not an owner) of Ada's Acme Sales.
  await addAppMember(p.t.db, sales, p.t.ids.accounts[GRACE.email] as string, 'member');
});
afterAll(async () => p.close());

describe('who may connect a partner', () => {
  it('app picker: a member who is not an owner is offered only the apps she owns', async () => {
    const browser = await signedIn(p.ui, GRACE);
    const page = await browser.get(authorizeUrl());
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(sales);
    expect(page.body).not.toContain('Acme Sales');
    expect(hidden(page.body, 'app_id')).toBe(shop);
  });

  it('forged decision: a member posting an app she does not own gets 403 and no code is issued', async () => {
    const browser = await signedIn(p.ui, GRACE);
    const page = await browser.get(authorizeUrl());
    const before = await redisKeys(p.redis, 'code:*');
    const tokensBefore = await countTokens(p.t.db);
    const res = await browser.post('/oauth/decision', {
      _csrf: hidden(page.body, '_csrf'),
      request_id: hidden(page.body, 'request_id'),
      app_id: sales,
      decision: 'allow',
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers.location).toBeUndefined();
    expect(await redisKeys(p.redis, 'code:*')).toEqual(before);
    expect(await countTokens(p.t.db)).toBe(tokensBefore);
  });

  it('forged consent page: a member cannot open the consent page for an app she does not own', async () => {
    const browser = await signedIn(p.ui, GRACE);
    const page = await browser.get(authorizeUrl());
    const res = await browser.get(`/oauth/consent?${new URLSearchParams({ request_id: hidden(page.body, 'request_id'), app_id: sales })}`);
    expect(res.statusCode).toBe(403);
  });

  it('one rule: every app the picker offers shows its integrations on /integrations, where they can be removed', async () => {
    const browser = await signedIn(p.ui, GRACE);
    const page = await browser.get(authorizeUrl());
    const decided = await browser.post('/oauth/decision', {
      _csrf: hidden(page.body, '_csrf'),
      request_id: hidden(page.body, 'request_id'),
      app_id: hidden(page.body, 'app_id'),
      decision: 'allow',
    });
    expect(decided.statusCode).toBe(303);
    const code = new URL(String(decided.headers.location)).searchParams.get('code') as string;
    const redeemed = await p.tokens.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'shoplifter', client_secret: 'secret' }).toString(),
    });
    expect(redeemed.statusCode).toBe(200);
    const integrations = await browser.get('/integrations');
    expect(integrations.body).toContain('Grace Shop');
    expect(integrations.body).not.toContain('Acme Sales');
    const removed = await browser.post('/integrations/remove', {
      _csrf: hidden(integrations.body, '_csrf'),
      authorization_id: hidden(integrations.body, 'authorization_id'),
    });
    expect(removed.statusCode).toBe(303);
    const live = await p.t.db
      .selectFrom('authorizations')
      .select('id')
      .where('app_id', '=', shop)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
  });
});
