// The bench's browser and partner: undici pools, a cookie jar per simulated browser, the real forms.
import { createHash, randomBytes } from 'node:crypto';
import { Pool } from 'undici';

export class Target {
  readonly pool: Pool;
  constructor(
    readonly url: string,
    connections: number,
  ) {
    this.pool = new Pool(url, { connections, pipelining: 1 });
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export async function send(
  target: Target,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  opts: { headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await target.pool.request({ method, path, headers, body });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

export function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no ${name} in page (${html.slice(0, 200)})`);
  return match[1].replace(/&amp;/g, '&');
}

/** A signed-in browser: its session cookie, sent with every request. */
export class Browser {
  private cookie = '';
  constructor(readonly ui: Target) {}

  private keep(reply: Reply): Reply {
    const set = reply.headers['set-cookie'];
    for (const line of [set ?? []].flat()) {
      const pair = line.split(';')[0] as string;
      if (pair.includes('sid=')) this.cookie = pair;
    }
    return reply;
  }

  // As behind the TLS-terminating gateway of a production deployment: Secure, __Host- cookies work.
  private headers(): Record<string, string> {
    return { cookie: this.cookie, 'x-forwarded-proto': 'https' };
  }

  async get(path: string): Promise<Reply> {
    return this.keep(await send(this.ui, 'GET', path, { headers: this.headers() }));
  }

  async post(path: string, form: Record<string, string>): Promise<Reply> {
    return this.keep(await send(this.ui, 'POST', path, { headers: this.headers(), form }));
  }

  async login(email: string, password: string): Promise<void> {
    const page = await this.get('/login');
    const res = await this.post('/login', { email, password, _csrf: hidden(page.body, '_csrf') });
    if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.body.slice(0, 200)}`);
  }

  /** The real decision path: the authorize request renders consent (one app), the Allow POST redirects with a code. */
  async mintCode(query = AUTH_QUERY): Promise<string> {
    const consent = await this.get(`/oauth/authorize?${query}`);
    if (consent.status !== 200) throw new Error(`authorize: ${consent.status} ${String(consent.headers.location ?? '')}`);
    const decision = await this.post('/oauth/decision', {
      request_id: hidden(consent.body, 'request_id'),
      app_id: hidden(consent.body, 'app_id'),
      decision: 'allow',
      _csrf: hidden(consent.body, '_csrf'),
    });
    const location = String(decision.headers.location ?? '');
    const code = new URL(location).searchParams.get('code');
    if (decision.status !== 303 || !code) throw new Error(`decision: ${decision.status} ${location}`);
    return code;
  }
}

/** One PKCE pair for every flow of the run (RFC 7636 §4.1, §4.2: S256). */
export const PKCE_VERIFIER = randomBytes(32).toString('base64url');
const PKCE_CHALLENGE = createHash('sha256').update(PKCE_VERIFIER).digest('base64url');
export const REDIRECT_URI = 'http://localhost:4000/callback';

/** The authorization request of `clientId`: one scope, PKCE S256 and redirect_uri. */
const authQuery = (clientId: string) =>
  new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    state: 'bench',
    scope: 'app:read',
    redirect_uri: REDIRECT_URI,
    code_challenge: PKCE_CHALLENGE,
    code_challenge_method: 'S256',
  }).toString();

/** The partner with expiring tokens and rotating refresh tokens, on both sides (issue 14). */
export const ROTATING_CLIENT = 'shoplifter-rotating';
export const ROTATING_QUERY = authQuery(ROTATING_CLIENT);

/** The authorization request both sides get: the demo partner, one scope, PKCE S256 and redirect_uri. */
export const AUTH_QUERY = authQuery('shoplifter');

/** A signed-in browser at the peer (oidc-provider): its cookies, its interaction pages. */
export class PeerBrowser {
  private readonly jar = new Map<string, string>();
  constructor(readonly peer: Target) {}

  private async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Reply> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const reply = await send(this.peer, method, path, { headers: { cookie, 'x-forwarded-proto': 'https' }, ...(form ? { form } : {}) });
    for (const line of [reply.headers['set-cookie'] ?? []].flat()) {
      const pair = line.split(';')[0] as string;
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(pair.slice(0, eq));
      else this.jar.set(pair.slice(0, eq), value);
    }
    return reply;
  }

  /** Authorize, then each interaction the peer asks for (sign-in once, consent every time), until the code. */
  async flow(login?: { email: string; password: string }, query = AUTH_QUERY): Promise<string> {
    let reply = await this.request('GET', `/auth?${query}`);
    for (let step = 0; step < 8; step++) {
      const location = String(reply.headers.location ?? '');
      if (reply.status !== 303 || !location) throw new Error(`peer flow: ${reply.status} ${reply.body.slice(0, 200)}`);
      if (location.startsWith(REDIRECT_URI)) {
        const code = new URL(location).searchParams.get('code');
        if (!code) throw new Error(`peer flow: no code in ${location}`);
        return code;
      }
      const path = new URL(location, 'https://peer.invalid').pathname;
      if (path.startsWith('/interaction/')) {
        const page = await this.request('GET', path);
        const action = /action="([^"]+)"/.exec(page.body)?.[1];
        if (page.status !== 200 || !action) throw new Error(`peer interaction: ${page.status}`);
        if (action.endsWith('/login') && !login) throw new Error('peer asked for sign-in in a signed-in flow');
        reply = await this.request('POST', action, action.endsWith('/login') ? { ...login } : { decision: 'allow' });
      } else reply = await this.request('GET', path);
    }
    throw new Error('peer flow: too many redirects');
  }

  async login(email: string, password: string): Promise<void> {
    await this.flow({ email, password });
  }

  mintCode(query = AUTH_QUERY): Promise<string> {
    return this.flow(undefined, query);
  }
}

/** Where each side answers, and how its answers are checked. */
export interface Endpoints {
  token: string;
  introspect: string;
  revoke: string;
}
export const PRODUCT_ENDPOINTS: Endpoints = { token: '/oauth/token', introspect: '/oauth/introspect', revoke: '/oauth/revoke' };
export const PEER_ENDPOINTS: Endpoints = { token: '/token', introspect: '/token/introspection', revoke: '/token/revocation' };

/** The partner redeems a code (client_secret_post, PKCE verifier, redirect_uri): the token, or a throw. */
export async function exchange(token: Target, code: string, endpoints: Endpoints = PRODUCT_ENDPOINTS): Promise<string> {
  const res = await send(token, 'POST', endpoints.token, {
    form: {
      grant_type: 'authorization_code',
      code,
      client_id: 'shoplifter',
      client_secret: 'secret',
      redirect_uri: REDIRECT_URI,
      code_verifier: PKCE_VERIFIER,
    },
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.body.slice(0, 200)}`);
  const body = JSON.parse(res.body) as { access_token?: unknown; token_type?: unknown; scope?: unknown };
  if (typeof body.access_token !== 'string' || body.token_type !== 'Bearer' || body.scope !== 'app:read')
    throw new Error(`token: unexpected answer ${res.body.slice(0, 200)}`);
  return body.access_token;
}

/** The demo partner, or one of the partners `--scale` loads. */
const CLIENTS = /^(shoplifter|scale-client-\d+)$/;
const RS_AUTH = `Basic ${Buffer.from('platform-api:platform-api-secret').toString('base64')}`;

/** The resource server introspects a token: true only for an answer saying active, for this client and scope. */
export async function introspect(token: Target, accessToken: string, endpoints: Endpoints = PRODUCT_ENDPOINTS): Promise<boolean> {
  const res = await send(token, 'POST', endpoints.introspect, { headers: { authorization: RS_AUTH }, form: { token: accessToken } });
  if (res.status !== 200) throw new Error(`introspect: ${res.status} ${res.body.slice(0, 200)}`);
  const body = JSON.parse(res.body) as { active?: unknown; client_id?: unknown; scope?: unknown };
  return body.active === true && typeof body.client_id === 'string' && CLIENTS.test(body.client_id) && body.scope === 'app:read';
}

/** The partner revokes its token (RFC 7009). */
export async function revoke(token: Target, accessToken: string, endpoints: Endpoints = PRODUCT_ENDPOINTS): Promise<void> {
  const res = await send(token, 'POST', endpoints.revoke, {
    form: { token: accessToken, client_id: 'shoplifter', client_secret: 'secret' },
  });
  if (res.status !== 200) throw new Error(`revoke: ${res.status} ${res.body.slice(0, 200)}`);
}

/** The rotating partner redeems a code: its first access and refresh tokens, or a throw. */
export async function exchangeForRefresh(token: Target, code: string, endpoints: Endpoints): Promise<string> {
  const res = await send(token, 'POST', endpoints.token, {
    form: {
      grant_type: 'authorization_code',
      code,
      client_id: ROTATING_CLIENT,
      client_secret: 'secret',
      redirect_uri: REDIRECT_URI,
      code_verifier: PKCE_VERIFIER,
    },
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.body.slice(0, 200)}`);
  const body = JSON.parse(res.body) as { refresh_token?: unknown };
  if (typeof body.refresh_token !== 'string') throw new Error(`token: no refresh_token in ${res.body.slice(0, 200)}`);
  return body.refresh_token;
}

/**
 * One refresh (RFC 6749 §6) with rotation: the new refresh token, checked to be a new one beside a new access token of
 * the granted scope; a throw otherwise.
 */
export async function refresh(token: Target, refreshToken: string, endpoints: Endpoints): Promise<string> {
  const res = await send(token, 'POST', endpoints.token, {
    form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: ROTATING_CLIENT, client_secret: 'secret' },
  });
  if (res.status !== 200) throw new Error(`refresh: ${res.status} ${res.body.slice(0, 200)}`);
  const body = JSON.parse(res.body) as {
    access_token?: unknown;
    refresh_token?: unknown;
    token_type?: unknown;
    expires_in?: unknown;
    scope?: unknown;
  };
  if (
    typeof body.access_token !== 'string' ||
    body.token_type !== 'Bearer' ||
    typeof body.expires_in !== 'number' ||
    typeof body.refresh_token !== 'string' ||
    body.refresh_token === refreshToken
  )
    throw new Error(`refresh: unexpected answer ${res.body.slice(0, 200)}`);
  return body.refresh_token;
}
