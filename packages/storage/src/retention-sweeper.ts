// Runs the retention sweep every interval in a service that does background work; reports each run to its caller.
import { type Clock, systemClock } from '@partner-oauth/service-kit';
import type { Db } from './db.js';
import { type RetentionResult, sweepRetention } from './repositories/retention.js';

export interface RetentionSweeperOptions {
  db: Db;
  retentionSeconds: number;
  auditRetentionSeconds: number;
  intervalMs: number;
  clock?: Clock;
  batchSize?: number;
  /** Called after every run: the result, or the error that ended it, and how long it took. */
  onRun: (outcome: { result?: RetentionResult; error?: unknown; durationMs: number; at: number }) => void;
  /** False to sweep only through runOnce() (tests). */
  autoStart?: boolean;
}

export interface RetentionSweeper {
  /** Runs one sweep now (after any in flight). */
  runOnce(): Promise<RetentionResult | undefined>;
  /** Stops the timer and waits for the sweep in flight. */
  stop(): Promise<void>;
}

export function startRetentionSweeper(options: RetentionSweeperOptions): RetentionSweeper {
  const { db, clock = systemClock, intervalMs, autoStart = true } = options;
  if (!(intervalMs >= 1000)) throw new RangeError('startRetentionSweeper: intervalMs must be at least 1000');
  let inFlight: Promise<RetentionResult | undefined> = Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function sweep(): Promise<RetentionResult | undefined> {
    const started = performance.now();
    try {
      const result = await sweepRetention(db, {
        now: new Date(clock.now()),
        retentionSeconds: options.retentionSeconds,
        auditRetentionSeconds: options.auditRetentionSeconds,
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      });
      options.onRun({ result, durationMs: performance.now() - started, at: clock.now() });
      return result;
    } catch (error) {
      // A failed sweep is retried at the next interval; the metrics and the alert say when they keep failing.
      options.onRun({ error, durationMs: performance.now() - started, at: clock.now() });
      return undefined;
    }
  }

  function runOnce(): Promise<RetentionResult | undefined> {
    inFlight = inFlight.then(sweep);
    return inFlight;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce().then(schedule);
    }, intervalMs);
    timer.unref();
  }
  if (autoStart) schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
