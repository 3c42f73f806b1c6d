// Browser test support: the services as processes (as tests/e2e starts them), Chromium from Debian, axe and screenshots.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ROOT } from '@partner-oauth/test-support/processes';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

export { freePort, type Service, startProcess, stopProcess } from '@partner-oauth/test-support/processes';
export const ARTIFACTS = `${ROOT}test-artifacts/browser`;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Debian's Chromium, headless; nothing is downloaded. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Fails the test on any page error or CSP violation reported to the console. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()))
      problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  return problems;
}

/**
 * axe-core on the current page: no serious or critical violation. It is evaluated through the
 * DevTools protocol, which the page's strict CSP does not govern, so no bypassCSP is needed.
 */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: { target: unknown }) => n.target) }));
  });
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}

/** Saves the page at phone (390px) and desktop (1280px) width, then checks it with axe at both. */
export async function capture(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const [label, width] of [
    ['phone', 390],
    ['desktop', 1280],
  ] as const) {
    await page.setViewportSize({ width, height: label === 'phone' ? 844 : 800 });
    await page.screenshot({ path: `${ARTIFACTS}/${name}-${label}.png`, fullPage: true });
    await expectAccessible(page);
  }
}
