// Behind the real gateway (infra/gateway/nginx.conf run by nginx) with the deployment's TRUST_PROXY, a client that forges
// X-Forwarded-For still meets the per-address sign-in limit and the client-authentication throttle (issue 17 item 4).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { freePort, hidden, ROOT, type Service, startProcess, stopProcess } from '../../e2e/test/support.js';

const LIMIT = 3;
const redis = createTestRedis();
let t: TestDatabase;
let ui: Service | undefined;
let tokens: Service | undefined;
let nginx: ChildProcess | undefined;
let dir: string;
let gateway: string;

/** nginx from Debian, installed when missing; never skipped (CI runs this on a fresh machine). */
function nginxBinary(): string {
  const which = () =>
    spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx 2>/dev/null'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '';
  if (which() === '')
    spawnSync(
      'sh',
      [
        '-c',
        'apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq nginx',
      ],
      { timeout: 600_000 },
    );
  const path = which();
  if (path === '') throw new Error("nginx is missing and installing Debian's nginx package failed");
  return path;
}

/** Replaces exactly one occurrence of `from` (the test fails if the gateway config no longer has it). */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const count = typeof from === 'string' ? text.split(from).length - 1 : [...text.matchAll(new RegExp(from, 'g'))].length;
  expect(count, String(from)).toBe(1);
  return text.replace(from, to);
}

/**
 * infra/gateway/nginx.conf as compose runs it, but on loopback ports, with the services' addresses instead of compose's
 * names, and its pid, logs and temporary files in a scratch directory: the routing and headers are the file's own.
 */
function gatewayConfig(ports: { gateway: number; admin: number; ui: number; tokens: number; registry: number }): string {
  let conf = readFileSync(join(ROOT, 'infra/gateway/nginx.conf'), 'utf8');
  conf = replaceOnce(conf, 'pid /tmp/nginx.pid;', `pid ${dir}/nginx.pid;`);
  conf = replaceOnce(conf, 'access_log /dev/stdout public;', `access_log ${dir}/access.log public;`);
  conf = replaceOnce(conf, /error_log \/dev\/stderr \w+;/, `error_log ${dir}/error.log warn;`);
  conf = replaceOnce(conf, 'listen 8080;', `listen 127.0.0.1:${ports.gateway};`);
  conf = replaceOnce(conf, 'listen 8081;', `listen 127.0.0.1:${ports.admin};`);
  conf = replaceOnce(conf, 'http://authorize-ui:3000;', `http://127.0.0.1:${ports.ui};`);
  conf = replaceOnce(conf, 'http://token-service:3001;', `http://127.0.0.1:${ports.tokens};`);
  conf = replaceOnce(conf, 'http://client-registry:3002;', `http://127.0.0.1:${ports.registry};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k};`).join('\n');
  return replaceOnce(conf, 'http {\n', `http {\n${temp}\n`);
}

/** TRUST_PROXY exactly as compose gives it to the services. */
function deployedTrustProxy(): string {
  const compose = parse(readFileSync(join(ROOT, 'infra/compose.yaml'), 'utf8'), { merge: true });
  return String(compose.services['authorize-ui'].environment.TRUST_PROXY);
}

async function waitForGateway(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the gateway did not answer at ${url}:\n${readFileSync(join(dir, 'error.log'), 'utf8')}`);
}

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  dir = mkdtempSync(join(tmpdir(), 'gateway-'));
  // nginx's workers (nobody, when the master runs as root) must reach the temporary directories under it.
  chmodSync(dir, 0o755);
  const ports = {
    gateway: await freePort(),
    admin: await freePort(),
    ui: await freePort(),
    tokens: await freePort(),
    registry: await freePort(),
  };
  const common = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: t.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    TRUST_PROXY: deployedTrustProxy(),
    ISSUER: `http://127.0.0.1:${ports.gateway}`,
    TOKEN_SERVICE_PUBLIC_URL: `http://127.0.0.1:${ports.gateway}`,
  };
  [ui, tokens] = await Promise.all([
    startProcess(
      'authorize-ui',
      ['node', 'apps/authorize-ui/dist/server.js'],
      { ...common, PORT: String(ports.ui), LOGIN_RATE_LIMIT_PER_MINUTE: String(LIMIT) },
      [`http://127.0.0.1:${ports.ui}`],
    ),
    startProcess(
      'token-service',
      ['node', 'apps/token-service/dist/server.js'],
      { ...common, PORT: String(ports.tokens), WEBHOOK_WORKER: 'false', CLIENT_AUTH_FAILURES_PER_MINUTE: String(LIMIT) },
      [`http://127.0.0.1:${ports.tokens}`],
    ),
  ]);
  writeFileSync(join(dir, 'nginx.conf'), gatewayConfig(ports));
  nginx = spawn(nginxBinary(), ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  gateway = `http://127.0.0.1:${ports.gateway}`;
  await waitForGateway(`${gateway}/health/live`);
}, 90_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGQUIT');
    await once(nginx, 'exit');
  }
  await stopProcess(ui);
  await stopProcess(tokens);
  await redis.cleanup();
  await t?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a forged X-Forwarded-For through the gateway', () => {
  it('does not escape the per-address sign-in limit', async () => {
    const page = await fetch(`${gateway}/login`);
    const cookie = page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const csrf = hidden(await page.text(), '_csrf');
    const attempt = (i: number) =>
      fetch(`${gateway}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-forwarded-for': `203.0.113.${i}` },
        body: new URLSearchParams({ _csrf: csrf, email: `nobody${i}@example.com`, password: 'wrong-password' }).toString(),
        redirect: 'manual',
      });
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push((await attempt(i)).status);
    expect(statuses.slice(0, LIMIT)).not.toContain(429);
    expect(statuses.slice(LIMIT)).toEqual([429, 429]);
  });

  it('does not escape the client-authentication throttle', async () => {
    const attempt = (i: number) =>
      fetch(`${gateway}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `203.0.113.${100 + i}` },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'c'.repeat(43),
          client_id: 'shoplifter',
          client_secret: `guess-${i}`,
        }).toString(),
      });
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await attempt(i)).status);
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
  });
});
