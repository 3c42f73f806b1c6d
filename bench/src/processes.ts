// The benchmark's services as processes (started by @partner-oauth/test-support, as the e2e tests start them),
// and their peak memory.
import { readFileSync } from 'node:fs';
import { type Service, startProcess, stopProcess } from '@partner-oauth/test-support/processes';

export { freePort, ROOT, startFlags } from '@partner-oauth/test-support/processes';

export interface Proc {
  name: string;
  url: string;
  child: Service['process'];
  log: () => string;
}

/** Starts `node [nodeArgs] script` on `port`; under load only the last 4000 characters of stderr are kept. */
export async function start(
  name: string,
  script: string,
  env: Record<string, string>,
  port: number,
  opts: { healthPath?: string; nodeArgs?: string[] } = {},
): Promise<Proc> {
  const service = await startProcess(
    name,
    [process.execPath, ...(opts.nodeArgs ?? []), script],
    { ...env, PORT: String(port) },
    [`http://127.0.0.1:${port}`],
    { keepLast: 4000, ...(opts.healthPath ? { healthPath: opts.healthPath } : {}) },
  );
  return { name, url: service.url, child: service.process, log: service.output };
}

/** Peak resident set size (VmHWM) of a process since it started, in MB. */
export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

export async function stop(proc: Proc | undefined): Promise<void> {
  if (proc) await stopProcess({ name: proc.name, url: proc.url, process: proc.child, output: proc.log });
}
