// The embedded database is opened by one process (or one open) at a time; a stale lock is taken over.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { EmbeddedDatabaseInUseError, lockEmbeddedDatabase, openDatabase } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'poauth-lock-'));
const dataDir = join(dir, 'pglite');
const lockFile = `${dataDir}.lock`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a second open is refused, naming the holder, until the first is closed', async () => {
  const first = await openDatabase({ dataDir });
  try {
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    const second = openDatabase({ dataDir });
    await expect(second).rejects.toBeInstanceOf(EmbeddedDatabaseInUseError);
    await expect(second).rejects.toThrow(`The embedded database in ${dataDir} is in use by process ${process.pid} (`);
  } finally {
    await first.destroy();
  }
  expect(existsSync(lockFile)).toBe(false);
  // PGlite's start is slow on a loaded machine; opening it again is shown by tests/e2e (cli-beside-start).
}, 180_000);

it('a lock whose process is gone is taken over, and released for the next', () => {
  // A pid that certainly existed and certainly has exited.
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(lockFile, JSON.stringify({ pid: gone, command: 'main.js' }));
  const lock = lockEmbeddedDatabase(dataDir);
  expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toEqual({ pid: process.pid, command: expect.any(String) });
  expect(() => lockEmbeddedDatabase(dataDir)).toThrow(EmbeddedDatabaseInUseError);
  lock.release();
  expect(existsSync(lockFile)).toBe(false);
  lockEmbeddedDatabase(dataDir).release();
});

it('a half-written lock (its writer died creating it) is taken over', () => {
  writeFileSync(lockFile, '{"pi');
  lockEmbeddedDatabase(dataDir).release();
  expect(existsSync(lockFile)).toBe(false);
});
