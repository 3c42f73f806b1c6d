// End-to-end support: starts the real services as processes and drives them over HTTP like a browser and a partner.

import { hidden } from '@partner-oauth/test-support/browser';
import { HttpBrowser as Browser } from '@partner-oauth/test-support/http-browser';
import { expect } from 'vitest';

export { freePort, ROOT, type Service, startProcess, stopProcess } from '@partner-oauth/test-support/processes';
export { Browser, hidden };
export const CALLBACK = 'http://localhost:4000/callback';

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
