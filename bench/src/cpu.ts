// CPU time per component (our services, Postgres, Redis) from /proc, to show where a scenario's time goes.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim().startsWith(name)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

export type CpuSnapshot = Map<string, number>;

export function snapshot(services: Record<string, number | undefined>): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const [name, pid] of Object.entries(services)) if (pid !== undefined) snap.set(name, ticksOf(pid));
  snap.set(
    'postgres',
    pidsNamed('postgres').reduce((sum, pid) => sum + ticksOf(pid), 0),
  );
  snap.set(
    'redis',
    pidsNamed('redis-server').reduce((sum, pid) => sum + ticksOf(pid), 0),
  );
  return snap;
}

/** Share of one core each component used between two snapshots taken `elapsedMs` apart. */
export function usage(before: CpuSnapshot, after: CpuSnapshot, elapsedMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ticks] of after) out[name] = (ticks - (before.get(name) ?? 0)) / TICKS_PER_SECOND / (elapsedMs / 1000);
  return out;
}
