// DATA_DIR means one thing to every command: the folder under which the embedded PGlite database lives.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '@partner-oauth/test-support/processes';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'poauth-data-dir-'));
const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', NODE_ENV: 'development' };

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function node(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

it('pnpm db:seed and pnpm cli open the same embedded database, DATA_DIR/pglite (where pnpm start keeps it: embedded.test.ts)', async () => {
  const seeded = await node('packages/storage/dist/cli.js', 'seed');
  expect(seeded.code, seeded.stderr).toBe(0);
  // The seed's account is there for the operator's CLI: it refuses to create it again.
  const again = await node(
    'apps/client-registry/dist/cli.js',
    'accounts',
    'create',
    '--email',
    'ada@example.com',
    '--password',
    'another-pass-1',
  );
  expect(again.stderr).toContain('an account with the email ada@example.com already exists');
  expect(again.code).toBe(2);
}, 240_000);
