// The partner flow of the spec, as a browser and a partner drive it; run against each way of deploying.
import { describe, expect, it } from 'vitest';
import { appOption, Browser, CALLBACK, decide, exchange, hidden, startAuthorization } from './support.js';

export interface Deployment {
  authorizeUrl: string;
  tokenUrl: string;
  issuer: string;
  /** The app's id from the database, where the test can read it while the services run. */
  appId?: (name: string) => Promise<string>;
}

/** App ids as the flows saw them (name -> id), for checks made after the services stop. */
export const observedAppIds: Record<string, string> = {};

const AUTH_QUERY = 'client_id=shoplifter&response_type=code&state=e2e-state';
const secretPost = { grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'secret' };

export function describePartnerFlow(deployment: () => Deployment): void {
  describe('the partner flow', () => {
    it('ada picks Acme Sales, allows, and the partner trades the code once for a token of that app', async () => {
      const d = deployment();
      const browser = new Browser(d.authorizeUrl);
      const { html: picker } = await startAuthorization(browser, AUTH_QUERY, 'ada@example.com', 'lovelace-1815');
      expect(picker).toContain('Acme Support');
      const salesId = appOption(picker, 'Acme Sales');
      const consentRes = await browser.get(`/oauth/consent?request_id=${hidden(picker, 'request_id')}&app_id=${salesId}`);
      const consent = await consentRes.text();
      expect(consent).toContain('Shoplifter wants access to Acme Sales');
      const back = await decide(browser, consent, 'allow');
      expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
      expect(back.searchParams.get('state')).toBe('e2e-state');
      expect(back.searchParams.get('iss')).toBe(d.issuer);
      const code = back.searchParams.get('code') as string;
      expect(code).toBeTruthy();

      const token = await exchange(d.tokenUrl, { ...secretPost, code });
      expect(token.status).toBe(200);
      expect(token.headers.get('cache-control')).toBe('no-store');
      expect(token.body).toEqual({
        access_token: expect.stringMatching(/^poat_/),
        token_type: 'Bearer',
        app_id: salesId,
        scope: 'app:read conversations:read conversations:write',
      });
      const info = await fetch(`${d.tokenUrl}/v2/tokenInfo`, { headers: { authorization: `Bearer ${token.body.access_token}` } });
      expect(await info.json()).toMatchObject({
        app: { id: salesId, name: 'Acme Sales' },
        client: { id: 'shoplifter', name: 'Shoplifter' },
      });
      if (d.appId) expect(salesId).toBe(await d.appId('Acme Sales'));
      observedAppIds['Acme Sales'] = salesId;

      const again = await exchange(d.tokenUrl, { ...secretPost, code });
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
      // The replay ended the token issued from that code (RFC 6749 §4.1.2).
      const after = await fetch(`${d.tokenUrl}/v2/tokenInfo`, { headers: { authorization: `Bearer ${token.body.access_token}` } });
      expect(after.status).toBe(401);
    });

    it('deny sends access_denied with the state', async () => {
      const d = deployment();
      const browser = new Browser(d.authorizeUrl);
      const { html } = await startAuthorization(browser, AUTH_QUERY, 'grace@example.com', 'hopper-1906');
      const back = await decide(browser, html, 'deny');
      expect(Object.fromEntries(back.searchParams)).toEqual({ error: 'access_denied', state: 'e2e-state', iss: d.issuer });
    });

    it('grace, with one app, goes straight to consent for Grace Shop', async () => {
      const d = deployment();
      const browser = new Browser(d.authorizeUrl);
      const { html } = await startAuthorization(browser, AUTH_QUERY, 'grace@example.com', 'hopper-1906');
      expect(html).toContain('Shoplifter wants access to Grace Shop');
      const back = await decide(browser, html, 'allow');
      const token = await exchange(d.tokenUrl, { ...secretPost, code: back.searchParams.get('code') as string });
      expect(token.status).toBe(200);
      const graceShop = hidden(html, 'app_id');
      expect(token.body.app_id).toBe(graceShop);
      if (d.appId) expect(graceShop).toBe(await d.appId('Grace Shop'));
      observedAppIds['Grace Shop'] = graceShop;
    });

    it('shoplifter-rotating: the exchange answers a refresh token; a refresh rotates it; two at once: one wins, the family ends', async () => {
      const d = deployment();
      const browser = new Browser(d.authorizeUrl);
      const query = 'client_id=shoplifter-rotating&response_type=code&state=e2e-rotating';
      const { html } = await startAuthorization(browser, query, 'grace@example.com', 'hopper-1906');
      expect(html).toContain('Shoplifter (expiring tokens) wants access to Grace Shop');
      const back = await decide(browser, html, 'allow');
      const rotating = { client_id: 'shoplifter-rotating', client_secret: 'secret' };
      const first = await exchange(d.tokenUrl, {
        grant_type: 'authorization_code',
        ...rotating,
        code: back.searchParams.get('code') as string,
      });
      expect(first.body).toMatchObject({ expires_in: 300, refresh_token: expect.stringMatching(/^port_[A-Za-z0-9_-]{43}$/) });
      const refresh = (token: string) => exchange(d.tokenUrl, { grant_type: 'refresh_token', refresh_token: token, ...rotating });
      const second = await refresh(first.body.refresh_token as string);
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, refresh_token: expect.stringMatching(/^port_/) });
      // Two requests at once with the same refresh token, on the running service: exactly one is answered with tokens.
      const raced = await Promise.all([refresh(second.body.refresh_token as string), refresh(second.body.refresh_token as string)]);
      expect(raced.map((r) => r.status).sort()).toEqual([200, 400]);
      const winner = raced.find((r) => r.status === 200)?.body as { access_token: string; refresh_token: string };
      // The loser was a reuse: the whole family ended, the winner's new tokens with it.
      const info = await fetch(`${d.tokenUrl}/v2/tokenInfo`, { headers: { authorization: `Bearer ${winner.access_token}` } });
      expect(info.status).toBe(401);
      expect((await refresh(winner.refresh_token)).body).toEqual({
        error: 'invalid_grant',
        error_description: 'the refresh token is invalid, expired, revoked or was issued to another client',
      });
    });

    it('nobody, with no app, is told so and gets no code', async () => {
      const d = deployment();
      const browser = new Browser(d.authorizeUrl);
      const { res, html } = await startAuthorization(browser, AUTH_QUERY, 'nobody@example.com', 'nobody-0000');
      expect(res.status).toBe(200);
      expect(html).toContain('You have no app yet');
      expect(html).not.toContain('name="decision"');
    });

    it('an unknown client gets an error page, not a redirect', async () => {
      const d = deployment();
      const res = await new Browser(d.authorizeUrl).get('/oauth/authorize?client_id=nope&response_type=code');
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('Unknown partner');
    });

    it('an unregistered redirect URI gets an error page, not a redirect', async () => {
      const d = deployment();
      const evil = encodeURIComponent('https://evil.example/callback');
      const res = await new Browser(d.authorizeUrl).get(`/oauth/authorize?client_id=shoplifter&response_type=code&redirect_uri=${evil}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    });

    it('a wrong secret is 401 invalid_client', async () => {
      const d = deployment();
      const res = await exchange(d.tokenUrl, { ...secretPost, client_secret: 'not-the-secret', code: 'whatever' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    });
  });
}
