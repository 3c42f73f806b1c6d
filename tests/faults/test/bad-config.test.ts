// A typo in a URL setting stops the service at start: exit 1 before listening, one line naming the setting and
// what is wrong, and never the password the URL carried.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../../e2e/test/support.js';

const GOOD = {
  DATABASE_URL: 'postgres://oauth:s3cret-pw@127.0.0.1:5432/oauth',
  REDIS_URL: 'redis://:s3cret-pw@127.0.0.1:6379',
  ISSUER: 'http://127.0.0.1:3000',
  TOKEN_SERVICE_PUBLIC_URL: 'http://127.0.0.1:3001',
};

const TYPOS: [string, string, RegExp][] = [
  ['DATABASE_URL', 'postgres//oauth:s3cret-pw@127.0.0.1/oauth', /DATABASE_URL: not a URL/],
  ['DATABASE_URL', 'postgres://oauth:s3cret-pw@127.0.0.1:54x2/oauth', /DATABASE_URL: not a URL/],
  ['DATABASE_URL', 'http://oauth:s3cret-pw@127.0.0.1:5432/oauth', /DATABASE_URL: must start with postgres:\/\/ or postgresql:\/\//],
  ['REDIS_URL', 'redis//:s3cret-pw@127.0.0.1:6391', /REDIS_URL: not a URL/],
  ['REDIS_URL', 'redis://:s3cret-pw@127.0.0.1:63x9', /REDIS_URL: not a URL/],
  ['ISSUER', 'https//auth.example.com', /ISSUER: /],
  ['TOKEN_SERVICE_PUBLIC_URL', 'ftp://tokens.example.com', /TOKEN_SERVICE_PUBLIC_URL: must start with http:\/\/ or https:\/\//],
];

const APPS: Record<string, string[]> = {
  'authorize-ui': ['DATABASE_URL', 'REDIS_URL', 'ISSUER', 'TOKEN_SERVICE_PUBLIC_URL'],
  'token-service': ['DATABASE_URL', 'REDIS_URL', 'ISSUER', 'TOKEN_SERVICE_PUBLIC_URL'],
  'client-registry': ['DATABASE_URL', 'ISSUER'],
};

async function run(app: string, env: Record<string, string>): Promise<{ code: number | null; output: string; listened: boolean }> {
  const port = await freePort();
  const child = spawn(process.execPath, [`apps/${app}/dist/server.js`], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', WEBHOOK_WORKER: 'false', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  // A service that started anyway never exits by itself: end it after a while so the test reports, not hangs.
  const guard = setTimeout(() => child.kill('SIGKILL'), 8_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(guard);
  return { code, output, listened: /listening/i.test(output) };
}

describe.each(Object.entries(APPS))('%s with a mistyped URL setting', (app, settings) => {
  // Every typo on token-service; on the others, one per setting (each start costs seconds on a loaded machine).
  const cases = TYPOS.filter(
    ([name], i) => settings.includes(name) && (app === 'token-service' || TYPOS.findIndex(([n]) => n === name) === i),
  );
  it.each(cases)('%s=%s exits 1 naming it, without the password', async (name, value, message) => {
    const { code, output, listened } = await run(app, { ...GOOD, [name]: value });
    expect(listened, output).toBe(false);
    expect(code, output).toBe(1);
    expect(output).toMatch(message);
    expect(output).not.toContain('s3cret-pw');
  });
});
