// The soak's steady traffic: consent flows, exchanges, introspection, and every way an authorization ends.
import { createHash, randomBytes } from 'node:crypto';
import { hidden } from '@partner-oauth/test-support/browser';
import { HttpBrowser } from '@partner-oauth/test-support/http-browser';

export interface Target {
  authorizeUrl: string;
  tokenUrl: string;
  registryUrl: string;
  /** ISSUER: the public origin the authorize-ui's redirects name. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  resourceServer: { id: string; secret: string };
  adminKey: string;
}

export interface Account {
  email: string;
  password: string;
}

/** Counts kept by the workers: requests by path, flows by how they ended, and anything unexpected. */
export class Tally {
  requests = 0;
  byPath = new Map<string, number>();
  flows = new Map<string, number>();
  errors = new Map<string, number>();
  lastErrors: string[] = [];

  count(path: string): void {
    this.requests++;
    this.byPath.set(path, (this.byPath.get(path) ?? 0) + 1);
  }

  flow(ending: string): void {
    this.flows.set(ending, (this.flows.get(ending) ?? 0) + 1);
  }

  error(what: string, detail: string): void {
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
    this.lastErrors = [...this.lastErrors.slice(-9), `${what}: ${detail.slice(0, 300)}`];
  }

  get errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }
}

class Unexpected extends Error {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super(detail);
  }
}

function expectStatus(res: Response, status: number, what: string): void {
  if (res.status !== status) throw new Unexpected(what, `expected ${status}, got ${res.status}`);
}

/** The ways a flow ends, in turn: every path that ends an authorization, plus a replay, a denial and one left live. */
const ENDINGS = ['revoke', 'partner-delete', 'owner-remove', 'replay', 'revoke', 'deny', 'keep'] as const;
type Ending = (typeof ENDINGS)[number];

/** One worker: a signed-in app owner whose consents a partner exchanges, uses and ends, in a loop until `until`. */
/** A browser behind the gateway: the public origin's redirects followed on authorize-ui, and TLS as the gateway reports it. */
const newBrowser = (target: Target) =>
  new HttpBrowser(target.authorizeUrl, { publicOrigin: target.issuer, headers: { 'x-forwarded-proto': 'https' } });

export async function runWorker(target: Target, account: Account, until: () => boolean, tally: Tally, index: number): Promise<void> {
  const partnerAuth = `Basic ${Buffer.from(`${target.clientId}:${target.clientSecret}`).toString('base64')}`;
  const rsAuth = `Basic ${Buffer.from(`${target.resourceServer.id}:${target.resourceServer.secret}`).toString('base64')}`;
  let browser = newBrowser(target);
  let signedIn = false;
  let iteration = index;

  const timed = async (path: string, call: () => Promise<Response>): Promise<Response> => {
    tally.count(path);
    return call();
  };
  const tokenPost = (path: string, fields: Record<string, string>, auth = partnerAuth) =>
    timed(path, () =>
      fetch(`${target.tokenUrl}${path}`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      }),
    );
  const introspect = async (token: string): Promise<{ active: boolean }> => {
    const res = await tokenPost('/oauth/introspect', { token }, rsAuth);
    expectStatus(res, 200, 'introspect');
    return (await res.json()) as { active: boolean };
  };

  while (!until()) {
    iteration++;
    const ending: Ending = ENDINGS[iteration % ENDINGS.length] as Ending;
    try {
      // A new browser (and sign-in, at the production password cost) every 25 flows.
      if (iteration % 25 === 0) {
        browser = newBrowser(target);
        signedIn = false;
      }
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const state = randomBytes(8).toString('hex');
      const query = new URLSearchParams({
        client_id: target.clientId,
        response_type: 'code',
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      tally.count('/oauth/authorize');
      let page = await browser.get(`/oauth/authorize?${query}`);
      if (!signedIn) {
        expectStatus(page, 302, 'authorize (signed out)');
        const loginPage = await browser.follow(page);
        tally.count('/login');
        const loginHtml = await loginPage.text();
        tally.count('/login');
        const login = await browser.post('/login', {
          email: account.email,
          password: account.password,
          return_to: hidden(loginHtml, 'return_to'),
          _csrf: hidden(loginHtml, '_csrf'),
        });
        expectStatus(login, 303, 'login');
        signedIn = true;
        tally.count('/oauth/authorize');
        page = await browser.follow(login);
      }
      expectStatus(page, 200, 'authorize');
      let html = await page.text();
      if (html.includes('action="/oauth/consent"')) {
        // The picker: each worker's owner has two apps; alternate between them.
        const apps = [...html.matchAll(/name="app_id" value="([^"]+)"/g)].map((m) => m[1] as string);
        const appId = apps[iteration % apps.length] as string;
        tally.count('/oauth/consent');
        const consent = await browser.get(`/oauth/consent?request_id=${encodeURIComponent(hidden(html, 'request_id'))}&app_id=${appId}`);
        expectStatus(consent, 200, 'consent');
        html = await consent.text();
      }
      const decision = ending === 'deny' ? 'deny' : 'allow';
      tally.count('/oauth/decision');
      const decided = await browser.post('/oauth/decision', {
        request_id: hidden(html, 'request_id'),
        app_id: hidden(html, 'app_id'),
        decision,
        _csrf: hidden(html, '_csrf'),
      });
      expectStatus(decided, 303, 'decision');
      const back = new URL(decided.headers.get('location') as string);
      if (back.searchParams.get('state') !== state) throw new Unexpected('decision', 'state not returned');
      if (ending === 'deny') {
        if (back.searchParams.get('error') !== 'access_denied') throw new Unexpected('deny', back.search);
        tally.flow('deny');
        continue;
      }
      const code = back.searchParams.get('code') as string;
      const exchanged = await tokenPost('/oauth/token', {
        grant_type: 'authorization_code',
        code,
        redirect_uri: target.redirectUri,
        code_verifier: verifier,
      });
      expectStatus(exchanged, 200, 'token');
      const { access_token: token, app_id: appId } = (await exchanged.json()) as { access_token: string; app_id: string };

      for (let i = 0; i < 3; i++) if (!(await introspect(token)).active) throw new Unexpected('introspect', 'live token inactive');
      const info = await timed('/v2/tokenInfo', () =>
        fetch(`${target.tokenUrl}/v2/tokenInfo`, { headers: { authorization: `Bearer ${token}` } }),
      );
      expectStatus(info, 200, 'tokenInfo');
      await info.body?.cancel();

      switch (ending) {
        case 'revoke':
          expectStatus(await tokenPost('/oauth/revoke', { token, token_type_hint: 'access_token' }), 200, 'revoke');
          break;
        case 'partner-delete': {
          const res = await timed('DELETE /oauth/authorization', () =>
            fetch(`${target.tokenUrl}/oauth/authorization`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }),
          );
          expectStatus(res, 200, 'DELETE /oauth/authorization');
          break;
        }
        case 'owner-remove': {
          tally.count('/integrations');
          const list = await browser.get('/integrations');
          expectStatus(list, 200, 'integrations');
          const listHtml = await list.text();
          // The form of this app's integration: its authorization_id follows the app's section heading.
          const section = listHtml.split(`id="app-${appId}"`)[1] ?? '';
          const authorizationId = /name="authorization_id" value="([^"]+)"/.exec(section)?.[1];
          if (!authorizationId) throw new Unexpected('integrations', 'the new integration is not listed');
          tally.count('/integrations/remove');
          const removed = await browser.post('/integrations/remove', {
            authorization_id: authorizationId,
            _csrf: hidden(listHtml, '_csrf'),
          });
          expectStatus(removed, 303, 'integrations/remove');
          break;
        }
        case 'replay': {
          const again = await tokenPost('/oauth/token', {
            grant_type: 'authorization_code',
            code,
            redirect_uri: target.redirectUri,
            code_verifier: verifier,
          });
          expectStatus(again, 400, 'replayed code');
          await again.body?.cancel();
          break;
        }
        case 'keep':
          break;
      }
      const after = await introspect(token);
      if (after.active === (ending !== 'keep')) throw new Unexpected('introspect after end', `active:${after.active} after ${ending}`);
      tally.flow(ending);
      // Now and then the admin API lists the partner's installations.
      if (iteration % 50 === 0) {
        const res = await timed('/v1/clients/:id/authorizations', () =>
          fetch(`${target.registryUrl}/v1/clients/${target.clientId}/authorizations?limit=50`, {
            headers: { authorization: `Bearer ${target.adminKey}` },
          }),
        );
        expectStatus(res, 200, 'admin authorizations');
        await res.body?.cancel();
      }
    } catch (err) {
      if (err instanceof Unexpected) tally.error(err.what, err.message);
      else tally.error('exception', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      // Start the next flow from a fresh browser, and give a struggling service a moment.
      browser = newBrowser(target);
      signedIn = false;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
