// Starting the product's services as separate processes (e2e, browser, fault and scale tests, the benchmark):
// spawn from the repository root, wait until each URL answers its health check, stop with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/test-support/dist/processes.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The V8 heap flags a service's `start` script passes (apps/<service>/package.json), as one string per flag. */
export function startFlags(service: string): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'apps', service, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(' ').filter((word) => word.startsWith('--max-'));
}

/** A port nothing listens on now (the tests never take the product's default ports). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface Service {
  name: string;
  url: string;
  process: ChildProcess;
  output: () => string;
}

export interface StartOptions {
  /** What each URL answers when up; default /health/live. */
  healthPath?: string;
  /** Default 30 s. */
  timeoutMs?: number;
  /**
   * Keep only the last this many characters of output, and drop stdout (the request log):
   * for processes under load, whose output would otherwise grow without end. Default: all of both.
   */
  keepLast?: number;
}

/**
 * Spawns `command` (from the repository root) with `env` over this process's environment, resolving
 * once every URL in `urls` answers its health check; the first URL is the service's. If the process
 * exits or does not come up in time, it is stopped and the error carries its output.
 */
export async function startProcess(
  name: string,
  command: string[],
  env: Record<string, string>,
  urls: string[],
  options: StartOptions | number = {},
): Promise<Service> {
  // A number is the time each URL has to come up (the e2e helper's former `upWithinMs`).
  const opts: StartOptions = typeof options === 'number' ? { timeoutMs: options } : options;
  const healthPath = opts.healthPath ?? '/health/live';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', opts.keepLast === undefined ? 'pipe' : 'ignore', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => {
    log += d.toString();
    if (opts.keepLast !== undefined) log = log.slice(-opts.keepLast);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = () => log;
  for (const url of urls) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${log}`);
      const up = await fetch(`${url}${healthPath}`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new Error(`${name}: ${url} did not come up in ${timeoutMs} ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { name, url: urls[0] as string, process: child, output };
}

/** SIGTERM, then the exit code (null when killed by a signal); a stopped or missing service answers its code. */
export async function stopProcess(service: Service | undefined): Promise<number | null> {
  if (!service || service.process.exitCode !== null) return service?.process.exitCode ?? null;
  service.process.kill('SIGTERM');
  const [code] = (await once(service.process, 'exit')) as [number | null];
  return code;
}
