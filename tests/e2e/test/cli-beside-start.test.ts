// `pnpm cli` beside a running `pnpm start` (embedded database): refused before touching anything; once stopped, its writes are what the product serves.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAdminKeys, openDatabase } from '@partner-oauth/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, type Service, startProcess, stopProcess } from './support.js';

const dataDir = mkdtempSync(join(tmpdir(), 'poauth-cli-'));
const lockFile = join(dataDir, 'pglite.lock');
let service: Service | undefined;
let registryUrl: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['apps/client-registry/dist/cli.js', ...args],
      { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', NODE_ENV: 'development' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function startProduct(): Promise<void> {
  const [ui, token, registry] = [await freePort(), await freePort(), await freePort()];
  registryUrl = `http://127.0.0.1:${registry}`;
  service = await startProcess(
    'standalone',
    ['node', 'apps/standalone/dist/main.js'],
    {
      DATA_DIR: dataDir,
      AUTHORIZE_UI_PORT: String(ui),
      TOKEN_SERVICE_PORT: String(token),
      CLIENT_REGISTRY_PORT: String(registry),
      SHOPLIFTER_PORT: '0',
      ISSUER: `http://127.0.0.1:${ui}`,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
      REDIS_URL: '',
    },
    [`http://127.0.0.1:${ui}`, `http://127.0.0.1:${token}`, registryUrl],
    // PGlite's first start migrates and seeds (scrypt): slow on a loaded machine.
    90_000,
  );
}

const adminApiAnswers = async (key: string) =>
  (await fetch(`${registryUrl}/v1/clients?limit=1`, { headers: { authorization: `Bearer ${key}` } })).status;

beforeAll(startProduct, 120_000);

afterAll(async () => {
  await stopProcess(service);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('while pnpm start runs on the embedded database', () => {
  it('holds a lock file naming its pid in DATA_DIR', () => {
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: service?.process.pid });
  });

  it('the CLI refuses in one sentence, exit 1, before writing anything', async () => {
    const created = await cli('admin-keys', 'create', '--name', 'while-running');
    expect(created.code).toBe(1);
    expect(created.stdout).toBe('');
    expect(created.stderr).toBe(
      `The embedded database in ${dataDir}/pglite is in use by process ${service?.process.pid} (main.js, e.g. \`pnpm start\`): stop it first, or make the change through its admin API (docs/admin-api.md); if no such process runs, delete ${lockFile}.\n`,
    );
    const listed = await cli('admin-keys', 'list');
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('is in use by process');
  });

  it('the product kept running and answering', async () => {
    expect(service?.process.exitCode).toBeNull();
    expect(await adminApiAnswers('poak_dev-admin-key-change-me-00000000000000000000')).toBe(200);
  });
});

describe('once pnpm start has stopped', () => {
  let key = '';

  it('released the lock, and nothing was written while it ran', async () => {
    expect(await stopProcess(service)).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
    const db = await openDatabase({ dataDir: join(dataDir, 'pglite') });
    try {
      expect((await listAdminKeys(db)).map((k) => k.name)).not.toContain('while-running');
    } finally {
      await db.destroy();
    }
  });

  it('the CLI writes, and the product started again serves the write', async () => {
    const created = await cli('admin-keys', 'create', '--name', 'after-stop');
    expect(created.code).toBe(0);
    key = /poak_[A-Za-z0-9_-]+/.exec(created.stdout)?.[0] ?? '';
    expect(key).not.toBe('');
    expect(existsSync(lockFile)).toBe(false);
    await startProduct();
    expect(await adminApiAnswers(key)).toBe(200);
  }, 120_000);

  it('a lock left by a process that died (SIGKILL) is taken over', async () => {
    service?.process.kill('SIGKILL');
    await new Promise((resolve) => service?.process.once('exit', resolve));
    service = undefined;
    expect(existsSync(lockFile)).toBe(true);
    const listed = await cli('admin-keys', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('after-stop');
    expect(existsSync(lockFile)).toBe(false);
  }, 60_000);
});
