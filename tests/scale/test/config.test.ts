// Start-up refuses a bad or unsafe configuration: each server, started as a process, exits 1 naming the setting.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../e2e/test/support.js';

/** Runs `apps/<app>/dist/server.js` with exactly `env` (plus PATH) and returns its exit code and output. */
async function start(app: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn('node', [`apps/${app}/dist/server.js`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '39999', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

const STORES = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unused', REDIS_URL: 'redis://127.0.0.1:1' };
const PRODUCTION = {
  ...STORES,
  NODE_ENV: 'production',
  ISSUER: 'https://app.example.com',
  TOKEN_SERVICE_PUBLIC_URL: 'https://app.example.com',
  SESSION_SECRET: 's'.repeat(40),
  WEBHOOK_SIGNING_KEY: 'w'.repeat(40),
};

const without = (env: Record<string, string>, name: string) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== name));

// [app, case, the setting the message must name, env]
const CASES: [string, string, string, Record<string, string>][] = [
  ['authorize-ui', 'production with the development session secret', 'SESSION_SECRET', without(PRODUCTION, 'SESSION_SECRET')],
  ['authorize-ui', 'production with an http issuer', 'ISSUER', { ...PRODUCTION, ISSUER: 'http://app.example.com' }],
  ['authorize-ui', 'a session secret too short', 'SESSION_SECRET', { ...PRODUCTION, SESSION_SECRET: 'short' }],
  ['authorize-ui', 'no Redis URL', 'REDIS_URL', without(STORES, 'REDIS_URL')],
  ['token-service', 'production with the development webhook key', 'WEBHOOK_SIGNING_KEY', without(PRODUCTION, 'WEBHOOK_SIGNING_KEY')],
  ['token-service', 'a code life over 10 minutes', 'CODE_TTL_SECONDS', { ...STORES, CODE_TTL_SECONDS: '3600' }],
  ['token-service', 'a port that is not a number', 'PORT', { ...STORES, PORT: 'http' }],
  ['token-service', 'no database URL', 'DATABASE_URL', without(STORES, 'DATABASE_URL')],
  ['client-registry', 'production with the development webhook key', 'WEBHOOK_SIGNING_KEY', without(PRODUCTION, 'WEBHOOK_SIGNING_KEY')],
  ['client-registry', 'an unknown log level', 'LOG_LEVEL', { ...STORES, LOG_LEVEL: 'loud' }],
  ['client-registry', 'a negative drain time', 'SHUTDOWN_DRAIN_SECONDS', { ...STORES, SHUTDOWN_DRAIN_SECONDS: '-1' }],
  ['client-registry', 'an unknown log format', 'LOG_FORMAT', { ...STORES, LOG_FORMAT: 'xml' }],
];

describe('start-up configuration', () => {
  it.each(CASES)('%s refuses %s, naming %s', async (app, _case, setting, env) => {
    const { code, output } = await start(app, env);
    expect(code, output).toBe(1);
    expect(output).toContain(setting);
    // One clear message, not a stack trace, and never the value of a secret.
    expect(output).not.toMatch(/\n\s+at /);
    expect(output).not.toContain('s'.repeat(40));
    expect(output).not.toContain('w'.repeat(40));
  });
});
