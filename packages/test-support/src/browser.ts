// A small browser over inject(): keeps cookies, reads form tokens from pages, can forge any header.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export type Headers = Record<string, string>;

export class Browser {
  readonly cookies = new Map<string, string>();

  /** `defaults` go on every request (e.g. the X-Forwarded-Proto of a TLS-terminating proxy). */
  constructor(
    private readonly app: FastifyInstance,
    private readonly defaults: Headers = {},
  ) {}

  cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  private with(headers: Headers): Headers {
    const cookie = this.cookieHeader();
    return { ...this.defaults, ...(cookie ? { cookie } : {}), ...headers };
  }

  async get(url: string, headers: Headers = {}): Promise<LightMyRequestResponse> {
    return this.keep(await this.app.inject({ method: 'GET', url, headers: this.with(headers) }));
  }

  async post(url: string, fields: Record<string, string>, headers: Headers = {}): Promise<LightMyRequestResponse> {
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        headers: this.with({ 'content-type': 'application/x-www-form-urlencoded', ...headers }),
        payload: new URLSearchParams(fields).toString(),
      }),
    );
  }

  /** Signs in through the login form; returns the answer to the POST. */
  async login(email: string, password: string, returnTo = '/'): Promise<LightMyRequestResponse> {
    const page = await this.get(`/login?return_to=${encodeURIComponent(returnTo)}`);
    return this.post('/login', { email, password, return_to: returnTo, _csrf: hidden(page.body, '_csrf') });
  }
}

/** The value of the hidden input `name` in `html`. */
export function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name} in page`);
  return match[1].replace(/&amp;/g, '&');
}

/** The <h1> of a page: what an error page says it is. */
export function heading(html: string): string | undefined {
  return /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
}
