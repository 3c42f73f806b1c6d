// A closed-loop load generator: `concurrency` workers each repeat one operation until the time (or the work) is up.

export interface LoadResult {
  /** Validated operations per second of wall time; failed ones are counted in `errors`, never here. */
  throughput: number;
  /** Validated operations. */
  count: number;
  errors: number;
  /** Latency of validated operations. */
  p50Ms: number;
  p99Ms: number;
  /** CPU time this process (the load generator) used, as a share of one core. */
  driverCpu: number;
  durationMs: number;
  firstError?: string;
}

/** What an operation reports: validated, failed, or no work left (a pool of codes ran out). */
export type Outcome = 'ok' | 'error' | 'done';

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  /** One operation; a throw counts as an error. */
  operation: (worker: number, iteration: number) => Promise<Outcome>;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  let ended = performance.now();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + opts.durationMs;

  const record = (ms: number) => {
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[count++] = ms;
  };

  async function worker(id: number): Promise<void> {
    for (let i = 0; performance.now() < deadline; i++) {
      const t0 = performance.now();
      let outcome: Outcome;
      try {
        outcome = await opts.operation(id, i);
      } catch (err) {
        outcome = 'error';
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      if (outcome === 'done') break;
      const t1 = performance.now();
      ended = Math.max(ended, t1);
      if (outcome === 'ok') record(t1 - t0);
      else errors++;
    }
  }

  await Promise.all(Array.from({ length: opts.concurrency }, (_, id) => worker(id)));
  const elapsed = ended - started;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = latencies.slice(0, count).sort();
  return {
    throughput: (count / elapsed) * 1000,
    count,
    errors,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    driverCpu: (cpu.user + cpu.system) / 1000 / elapsed,
    durationMs: elapsed,
    ...(firstError ? { firstError } : {}),
  };
}

/** The run with the median throughput of several. */
export function median<T extends { throughput: number }>(results: T[]): T {
  const sorted = [...results].sort((a, b) => a.throughput - b.throughput);
  return sorted[Math.floor(sorted.length / 2)] as T;
}
