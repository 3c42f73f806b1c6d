// A service's garbage collection under the bench (issue 13), loaded into each service with `--import`: every second,
// the collections of that second by kind (count and main-thread milliseconds, from perf_hooks' "gc" entries) and the
// heap's size, appended to /tmp/gc-PID.log. Not part of any service; for measuring only.
// Usage: BENCH_NODE_ARGS="<the service's start flags> --import ./bench/scripts/gc-log.mjs" pnpm bench --quick ...
// (BENCH_NODE_ARGS replaces every service's flags, so give token-service's own: --max-semi-space-size=8
// --max-old-space-size=96.)
import { appendFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'full',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

let second = new Map();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[entry.detail?.kind] ?? `kind ${entry.detail?.kind}`;
    const k = second.get(kind) ?? { count: 0, ms: 0 };
    k.count++;
    k.ms += entry.duration;
    second.set(kind, k);
  }
}).observe({ entryTypes: ['gc'] });

const mb = (bytes) => (bytes / 1048576).toFixed(1);
setInterval(() => {
  const heap = v8.getHeapStatistics();
  const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
  const kinds = [...second].map(([kind, k]) => `${kind} ${k.count} (${k.ms.toFixed(1)} ms)`).join(', ') || 'none';
  second = new Map();
  const line = `${new Date().toISOString().slice(11, 19)} ${kinds}; heap used ${mb(heap.used_heap_size)} MB of ${mb(heap.total_heap_size)}, old space used ${mb(old?.space_used_size ?? 0)}\n`;
  appendFileSync(`/tmp/gc-${process.pid}.log`, line);
}, 1000).unref();
