// The bench's browser and partner: undici pools, a cookie jar per simulated browser, the real forms.
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
  async mintCode(query: string): Promise<string> {
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

export async function exchange(token: Target, code: string): Promise<string> {
  const res = await send(token, 'POST', '/oauth/token', {
    form: { grant_type: 'authorization_code', code, client_id: 'shoplifter', client_secret: 'secret' },
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.body}`);
  return JSON.parse(res.body).access_token as string;
}
