// What the soak samples every interval (process memory, descriptors, heap, event-loop lag, rows), and its verdict.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcSample {
  rssMb: number;
  heapUsedMb: number;
  fds: number;
  /** p99 event-loop lag over the process' monitoring window, ms. */
  lagP99Ms: number;
}

export interface Sample {
  at: number;
  elapsedS: number;
  requests: number;
  flows: number;
  errors: number;
  procs: Record<string, ProcSample>;
  rows: Record<string, number>;
  /** Rows of the pruned tables that are still live (a token or authorization not ended, a notice pending). */
  live: Record<string, number>;
  redisKeys: number;
  logBytes: Record<string, number>;
}

function procStatus(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

const metricValue = (text: string, name: string): number => {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
};

/** RSS and descriptors from /proc; heap and event-loop lag from the service's own /metrics (prom-client's defaults). */
export async function sampleProcess(pid: number, baseUrl: string): Promise<ProcSample> {
  let heapUsedMb = Number.NaN;
  let lagP99Ms = Number.NaN;
  try {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    heapUsedMb = metricValue(text, 'nodejs_heap_size_used_bytes') / 2 ** 20;
    lagP99Ms = metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000;
  } catch {
    // a missed scrape shows as NaN in the table
  }
  return { rssMb: procStatus(pid, 'VmRSS'), heapUsedMb, fds: fdCount(pid), lagP99Ms };
}

export interface Verdict {
  ok: boolean;
  lines: string[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * RSS flat after warm-up: the mean of the last quarter of the samples after warm-up is within 10 % (or 15 MB)
 * of the mean of the first quarter, and every sample is under the service's memory request. Rows bounded by
 * the retention window: once the window has filled, no pruned table ever holds more ended rows than the flows of
 * the last window could have ended (one row per flow at most, the window being RETENTION_SECONDS plus two sweep
 * intervals plus one sample interval), plus `inFlight` flows. A table that kept what ended would pass that bound
 * within one window, whatever the speed.
 */
export function verdict(
  samples: Sample[],
  opts: { warmupS: number; windowS: number; inFlight: number; memoryRequestMb: Record<string, number>; pruned: string[] },
): Verdict {
  const lines: string[] = [];
  let ok = true;
  const afterWarmup = samples.filter((s) => s.elapsedS >= opts.warmupS);
  const services = Object.keys(samples[0]?.procs ?? {});
  if (afterWarmup.length < 4) {
    lines.push(`too few samples after the ${opts.warmupS} s warm-up (${afterWarmup.length}) to judge memory: run longer`);
    ok = false;
  } else {
    const q = Math.max(1, Math.floor(afterWarmup.length / 4));
    for (const name of services) {
      const rss = afterWarmup.map((s) => s.procs[name]?.rssMb ?? Number.NaN);
      const first = mean(rss.slice(0, q));
      const last = mean(rss.slice(-q));
      const flat = last - first <= Math.max(15, first * 0.1);
      const peak = Math.max(...samples.map((s) => s.procs[name]?.rssMb ?? 0));
      const request = opts.memoryRequestMb[name] ?? Number.NaN;
      const under = peak < request;
      ok &&= flat && under;
      lines.push(
        `${flat && under ? 'PASS' : 'FAIL'} ${name}: RSS ${first.toFixed(0)} -> ${last.toFixed(0)} MB after the ${opts.warmupS} s warm-up (${flat ? 'flat' : 'growing'}), peak ${peak.toFixed(0)} MB ${under ? '<' : '>='} request ${request} MB`,
      );
    }
  }
  // Each sample against the flows completed in the window before it.
  const judged = samples.flatMap((s) => {
    const before = samples.filter((p) => p.elapsedS <= s.elapsedS - opts.windowS).at(-1);
    return before ? [{ s, bound: s.flows - before.flows + opts.inFlight }] : [];
  });
  if (judged.length < 3) {
    lines.push(`too few samples after the retention window (${opts.windowS} s) filled to judge rows: run longer`);
    ok = false;
  } else {
    const last = samples.at(-1) as Sample;
    for (const table of opts.pruned) {
      const ended = (x: Sample) => (x.rows[table] ?? 0) - (x.live[table] ?? 0);
      const worst = judged.reduce((w, j) => (ended(j.s) / j.bound > ended(w.s) / w.bound ? j : w));
      const bounded = judged.every((j) => ended(j.s) <= j.bound);
      const peak = Math.max(...judged.map((j) => j.s.rows[table] ?? 0));
      const sampledLive = judged.some((j) => j.s.live[table] !== undefined);
      const peakLive = sampledLive
        ? `${Math.max(...judged.map((j) => j.s.live[table] ?? 0))} live`
        : 'live not sampled: all counted as ended';
      ok &&= bounded;
      lines.push(
        `${bounded ? 'PASS' : 'FAIL'} ${table}: at most ${peak} rows (${peakLive}) once the window filled, ${last.rows[table]} at the end after ${last.flows} flows; nearest the bound at ${worst.s.elapsedS} s: ${ended(worst.s)} ended rows ${bounded ? '<=' : '>'} ${worst.bound} (flows in the last ${opts.windowS} s + ${opts.inFlight} in flight)`,
      );
    }
  }
  return { ok, lines };
}
