// The embedded default, started the way `pnpm start` starts it: one process, PGlite, in-process store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_ADMIN_KEY, findApp, openDatabase } from '@partner-oauth/storage';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Deployment, describePartnerFlow, observedAppIds } from './flow.js';
import { freePort, type Service, startProcess, stopProcess } from './support.js';

const dataDir = mkdtempSync(join(tmpdir(), 'poauth-e2e-'));
let service: Service | undefined;
let deployment: Deployment;
let registryUrl: string;
let ports: { ui: number; token: number; registry: number; partner: number };

beforeAll(async () => {
  const [ui, token, registry, partner] = [await freePort(), await freePort(), await freePort(), await freePort()];
  ports = { ui, token, registry, partner };
  const issuer = `http://127.0.0.1:${ui}`;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    AUTHORIZE_UI_PORT: String(ui),
    TOKEN_SERVICE_PORT: String(token),
    CLIENT_REGISTRY_PORT: String(registry),
    SHOPLIFTER_PORT: String(partner),
    ISSUER: issuer,
    LOG_LEVEL: 'info',
    // The default, as a newcomer gets it.
    LOG_FORMAT: '',
    NODE_ENV: 'development',
  };
  // No DATABASE_URL or REDIS_URL: the embedded default.
  for (const key of ['DATABASE_URL', 'REDIS_URL']) env[key] = '';
  service = await startProcess('standalone', ['node', 'apps/standalone/dist/main.js'], env, [
    issuer,
    `http://127.0.0.1:${token}`,
    `http://127.0.0.1:${registry}`,
    `http://127.0.0.1:${partner}`,
  ]);
  registryUrl = `http://127.0.0.1:${registry}`;
  deployment = { authorizeUrl: issuer, tokenUrl: `http://127.0.0.1:${token}`, issuer };
}, 60_000);

afterAll(async () => {
  const code = await stopProcess(service);
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`standalone did not exit cleanly (${code}):\n${service?.output()}`);
});

it('development by default: a banner with the links, demo accounts and development secrets, then readable lines, not JSON', () => {
  const out = service?.output() ?? '';
  const banner = out.slice(out.indexOf('  Partner OAuth is running (development)'));
  expect(banner).toMatch(
    /^ {2}Partner OAuth is running \(development\) in \d+ ms: embedded PGlite in .*\/pglite, codes and sessions in-process$/m,
  );
  for (const [label, port] of [
    ['Try it', ports.partner],
    ['Sign-in', `${ports.ui}/integrations`],
    ['Tokens', ports.token],
    ['Admin API', `${ports.registry}/docs`],
  ] as const)
    expect(banner).toMatch(new RegExp(`^ {2}${label} +http://localhost:${port} `, 'm'));
  expect(banner).toMatch(/^ {4}ada@example\.com \/ lovelace-1815 +two apps: Acme Support, Acme Sales$/m);
  expect(banner).toMatch(/^ {4}grace@example\.com \/ hopper-1906 +one app: Grace Shop$/m);
  expect(banner).toMatch(/^ {4}nobody@example\.com \/ nobody-0000 +no app$/m);
  expect(banner).toContain(`  Admin key  ${DEV_ADMIN_KEY}`);
  expect(banner).toContain('  ! Development secrets in use');
  expect(banner).toContain('- SESSION_SECRET is the development value');
  expect(banner).toContain('- WEBHOOK_SIGNING_KEY is the development key');
  expect(banner).toContain('the admin API accepts the development admin key');
  // Log lines read as "HH:MM:SS LEVEL: service: message", one per line; none is a JSON object.
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
  expect(out).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: authorize-ui: Server listening at /m);
});

it('seeds the development admin key, which the admin API accepts, and nothing else', async () => {
  const ok = await fetch(`${registryUrl}/v1/clients/shoplifter`, { headers: { authorization: `Bearer ${DEV_ADMIN_KEY}` } });
  expect(ok.status).toBe(200);
  expect(((await ok.json()) as { client_id: string }).client_id).toBe('shoplifter');
  const other = await fetch(`${registryUrl}/v1/clients`, { headers: { authorization: 'Bearer dev-admin-token-change-me-0000000000' } });
  expect(other.status).toBe(401);
});

describePartnerFlow(() => deployment);

it('kept its data on disk, and the tokens were for the apps the owners picked', async () => {
  expect(await stopProcess(service)).toBe(0);
  const db = await openDatabase({ dataDir: join(dataDir, 'pglite') });
  try {
    const rows = await db.selectFrom('apps').select(['id', 'name']).execute();
    expect(rows.map((r) => r.name).sort()).toEqual(['Acme Sales', 'Acme Support', 'Grace Shop']);
    for (const [name, id] of Object.entries(observedAppIds)) expect(await findApp(db, id)).toEqual({ id, name });
    const tokens = await db.selectFrom('access_tokens').select(['app_id', 'token_hash']).execute();
    expect(new Set(tokens.map((r) => r.app_id))).toEqual(new Set(Object.values(observedAppIds)));
  } finally {
    await db.destroy();
  }
});
