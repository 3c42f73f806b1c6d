// Server CPU per operation from /proc/PID/stat: each side's service processes, the Postgres backends serving
// the product's bench database (found in pg_stat_activity), and the bench's own redis-server.
import { readFileSync } from 'node:fs';

const TICK_MS = 10;

/** utime + stime of a live process; undefined once it is gone. */
function ticksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Component name -> the pids it is made of (read again at each snapshot: backends come and go). */
export type Components = () => Promise<Record<string, number[]>>;

export type CpuSnapshot = Map<string, Map<number, number>>;

export async function snapshot(components: Components): Promise<CpuSnapshot> {
  const snap: CpuSnapshot = new Map();
  for (const [name, pids] of Object.entries(await components())) {
    const ticks = new Map<number, number>();
    for (const pid of pids) {
      const t = ticksOf(pid);
      if (t !== undefined) ticks.set(pid, t);
    }
    snap.set(name, ticks);
  }
  return snap;
}

/**
 * CPU milliseconds each component used between two snapshots. A process born during the run (a Postgres
 * backend the pool opened) counts from zero; one that ended during the run is lost (its ticks cannot be read).
 */
export function cpuMs(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of after) {
    let ticks = 0;
    for (const [pid, t] of pids) ticks += Math.max(0, t - (before.get(name)?.get(pid) ?? 0));
    out[name] = ticks * TICK_MS;
  }
  return out;
}
