// LOG_FORMAT=json (production's default): every line `pnpm start` prints is one JSON object, warnings included; no banner.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_ADMIN_KEY } from '@partner-oauth/storage';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, type Service, startProcess, stopProcess } from './support.js';

const dataDir = mkdtempSync(join(tmpdir(), 'poauth-json-'));
let service: Service | undefined;

beforeAll(async () => {
  const [ui, token, registry] = [await freePort(), await freePort(), await freePort()];
  const urls = [`http://127.0.0.1:${ui}`, `http://127.0.0.1:${token}`, `http://127.0.0.1:${registry}`];
  service = await startProcess(
    'standalone',
    ['node', 'apps/standalone/dist/main.js'],
    {
      DATA_DIR: dataDir,
      AUTHORIZE_UI_PORT: String(ui),
      TOKEN_SERVICE_PORT: String(token),
      CLIENT_REGISTRY_PORT: String(registry),
      SHOPLIFTER_PORT: '0',
      ISSUER: urls[0] as string,
      NODE_ENV: 'development',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      DATABASE_URL: '',
      REDIS_URL: '',
    },
    urls,
    // PGlite's first start migrates and seeds (scrypt): slow on a loaded machine.
    90_000,
  );
  // The ready line is logged just after the last listener answers.
  for (let waited = 0; !(service?.output() ?? '').includes('"ready: ') && waited < 10_000; waited += 100)
    await new Promise((resolve) => setTimeout(resolve, 100));
}, 120_000);

afterAll(async () => {
  await stopProcess(service);
  rmSync(dataDir, { recursive: true, force: true });
});

it('prints only JSON lines, the development warnings among them, and no banner', () => {
  const out = service?.output() ?? '';
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const entries = lines.map((l) => JSON.parse(l) as { level: number; service: string; msg: string });
  expect(out).not.toContain('Partner OAuth is running');
  const warnings = entries.filter((e) => e.level === 40).map((e) => e.msg);
  expect(warnings.some((m) => m.includes(DEV_ADMIN_KEY))).toBe(true);
  expect(warnings).toContain('SESSION_SECRET is the development value: set SESSION_SECRET outside development');
  expect(entries.some((e) => e.service === 'authorize-ui' && e.msg.startsWith('ready: '))).toBe(true);
});
