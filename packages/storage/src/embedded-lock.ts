// One process at a time on an embedded (PGlite) database: a second opener would write where the first never looks, and corrupt it.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

export class EmbeddedDatabaseInUseError extends Error {
  override name = 'EmbeddedDatabaseInUseError';
}

export interface EmbeddedLock {
  readonly path: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(path: string): { pid: number; command: string } | undefined {
  try {
    const { pid, command } = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; command?: unknown };
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0
      ? { pid, command: typeof command === 'string' ? command : '?' }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `<dataDir>.lock` (a file beside the data folder, holding our pid) or throws, before the database is
 * opened. A lock left by a process that is gone (SIGKILL, power loss) is taken over.
 */
export function lockEmbeddedDatabase(dataDir: string): EmbeddedLock {
  const path = `${dataDir.replace(/\/+$/, '')}.lock`;
  const command = basename(process.argv[1] ?? 'node');
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      // `wx`: created by exactly one of any number of racing processes.
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = holderOf(path);
      if (holder && alive(holder.pid)) {
        throw new EmbeddedDatabaseInUseError(
          `The embedded database in ${dataDir} is in use by process ${holder.pid} (${holder.command}, e.g. \`pnpm start\`): stop it first, or make the change through its admin API (docs/admin-api.md); if no such process runs, delete ${path}.`,
        );
      }
      // Stale (its process is gone) or half-written by a process that died creating it: remove and retry once.
      try {
        unlinkSync(path);
      } catch {
        // another process removed it first
      }
      continue;
    }
    writeSync(fd, JSON.stringify({ pid: process.pid, command }));
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      if (holderOf(path)?.pid === process.pid) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    };
    process.on('exit', release);
    return { path, release };
  }
  throw new EmbeddedDatabaseInUseError(`The embedded database in ${dataDir} is being opened by another process: try again.`);
}
