// A tiny browser over inject(): keeps cookies, reads form tokens from pages.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): string | undefined {
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

  async get(url: string): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader();
    return this.keep(await this.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} }));
  }

  async post(url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
    const cookie = this.cookieHeader();
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        payload: new URLSearchParams(fields).toString(),
      }),
    );
  }

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

export function radioValues(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`name="${name}" value="([^"]*)"`, 'g'))].map((m) => m[1] as string);
}
