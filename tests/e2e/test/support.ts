// End-to-end support: starts the real services as processes and drives them over HTTP like a browser and a partner.
import { expect } from 'vitest';

export { freePort, ROOT, type Service, startProcess, stopProcess } from '@partner-oauth/test-support/processes';
export const CALLBACK = 'http://localhost:4000/callback';

/** A browser: a cookie jar, redirects left to the test, forms read from pages. */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  private async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(url, this.base), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq).trim();
      const value = (pair as string).slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && new Date(a.split('=')[1] as string).getTime() < Date.now());
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

  /** Follows redirects within this site; stops at (and returns) the first one leaving it. */
  async follow(res: Response): Promise<Response> {
    let current = res;
    for (let hops = 0; hops < 10 && current.status >= 300 && current.status < 400; hops++) {
      const target = new URL(current.headers.get('location') as string, this.base);
      if (target.origin !== new URL(this.base).origin) return current;
      current = await this.get(target.toString());
    }
    return current;
  }
}

export function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name} in:\n${html}`);
  return match[1].replace(/&amp;/g, '&');
}

/** The app_id of the option labelled `appName` on the picker page. */
export function appOption(html: string, appName: string): string {
  const match = new RegExp(`value="([^"]+)"(?: checked)?> ${appName}</label>`).exec(html);
  if (!match?.[1]) throw new Error(`no app ${appName} on the picker:\n${html}`);
  return match[1];
}

/** Starts at the partner's authorize link and signs in, returning the page after login (picker, consent or no-app). */
export async function startAuthorization(
  browser: Browser,
  query: string,
  email: string,
  password: string,
): Promise<{ res: Response; html: string }> {
  const first = await browser.get(`/oauth/authorize?${query}`);
  expect(first.status).toBe(302);
  const loginPage = await browser.follow(first);
  const loginHtml = await loginPage.text();
  expect(loginHtml).toContain('Sign in');
  const login = await browser.post('/login', {
    email,
    password,
    return_to: hidden(loginHtml, 'return_to'),
    _csrf: hidden(loginHtml, '_csrf'),
  });
  expect(login.status).toBe(303);
  const page = await browser.follow(login);
  return { res: page, html: await page.text() };
}

export async function decide(browser: Browser, consentHtml: string, decision: 'allow' | 'deny'): Promise<URL> {
  const res = await browser.post('/oauth/decision', {
    request_id: hidden(consentHtml, 'request_id'),
    app_id: hidden(consentHtml, 'app_id'),
    decision,
    _csrf: hidden(consentHtml, '_csrf'),
  });
  expect(res.status).toBe(303);
  return new URL(res.headers.get('location') as string);
}

export async function exchange(tokenUrl: string, fields: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${tokenUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}
