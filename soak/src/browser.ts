// A browser for the soak: a cookie jar, forms read from pages, and the gateway's X-Forwarded-Proto so Secure cookies flow.

export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(
    readonly base: string,
    /** The public origin (ISSUER): redirects to it are followed on `base`. */
    private readonly publicOrigin: string,
  ) {}

  private local(url: string): URL {
    const target = new URL(url, this.base);
    if (target.origin === this.publicOrigin) return new URL(`${target.pathname}${target.search}`, this.base);
    return target;
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-proto', 'https');
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(this.local(url), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  get(url: string): Promise<Response> {
    return this.request(url);
  }

  post(url: string, fields: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Follows redirects within this site; returns the first response that is not one, or that leaves it. */
  async follow(res: Response): Promise<Response> {
    let current = res;
    for (let hops = 0; hops < 10 && current.status >= 300 && current.status < 400; hops++) {
      const location = current.headers.get('location') as string;
      const target = new URL(location, this.publicOrigin);
      if (target.origin !== this.publicOrigin && target.origin !== new URL(this.base).origin) return current;
      await current.body?.cancel();
      current = await this.get(location);
    }
    return current;
  }
}

export function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name}`);
  return match[1].replace(/&amp;/g, '&');
}
