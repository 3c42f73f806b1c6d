// A small browser over real HTTP (fetch): a cookie jar, redirects left to the caller or followed within the site.
// The e2e, faults and image tests drive the services with it, and `pnpm soak` drives them through a gateway.

export interface HttpBrowserOptions {
  /** The public origin (ISSUER) when it differs from `base` (behind a gateway): redirects to it are followed on `base`. */
  publicOrigin?: string;
  /** Headers sent on every request (the soak's X-Forwarded-Proto, so Secure cookies flow). */
  headers?: Record<string, string>;
}

export class HttpBrowser {
  private readonly cookies = new Map<string, string>();
  private readonly publicOrigin: string;

  constructor(
    readonly base: string,
    private readonly options: HttpBrowserOptions = {},
  ) {
    this.publicOrigin = options.publicOrigin ?? new URL(base).origin;
  }

  private local(url: string): URL {
    const target = new URL(url, this.base);
    if (target.origin === this.publicOrigin) return new URL(`${target.pathname}${target.search}`, this.base);
    return target;
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.options.headers ?? {})) headers.set(name, value);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(this.local(url), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired =
        /max-age=0/i.test(line) || attrs.some((a) => /^\s*expires=/i.test(a) && new Date(a.split('=')[1] as string).getTime() < Date.now());
      if (value === '' || expired) this.cookies.delete(name);
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
      const target = new URL(current.headers.get('location') as string, this.publicOrigin);
      if (target.origin !== this.publicOrigin && target.origin !== new URL(this.base).origin) return current;
      await current.body?.cancel();
      current = await this.get(target.toString());
    }
    return current;
  }
}
