// Server CPU per operation from /proc/PID/stat: each side's service processes, the Postgres backends serving
// the product's bench database (found in pg_stat_activity), and the bench's own redis-server.
import { readFileSync } from 'node:fs';

const TICK_MS = 10;

function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Component name -> the pids it is made of (read again at each snapshot: backends come and go). */
export type Components = () => Promise<Record<string, number[]>>;

export type CpuSnapshot = Map<string, Map<number, number>>;

export async function snapshot(components: Components): Promise<CpuSnapshot> {
  const snap: CpuSnapshot = new Map();
  for (const [name, pids] of Object.entries(await components())) snap.set(name, new Map(pids.map((pid) => [pid, ticksOf(pid)])));
  return snap;
}

/** CPU milliseconds each component used between two snapshots (a pid present in only one counts from 0 or is lost). */
export function cpuMs(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of after) {
    let ticks = 0;
    for (const [pid, t] of pids) ticks += t - (before.get(name)?.get(pid) ?? t);
    out[name] = ticks * TICK_MS;
  }
  return out;
}
