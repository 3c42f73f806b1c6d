// The outbox relay for removal notifications: claim due rows under a lease, deliver, record, retry with backoff.
import { type Clock, systemClock } from '@partner-oauth/service-kit';
import {
  claimDueDeliveries,
  type Db,
  recordDeliveryOutcome,
  type WebhookDeliveryRow,
  type WebhookDeliveryTable,
  webhookSecretVersions,
} from '@partner-oauth/storage';
import type { Updateable } from 'kysely';
import { DEFAULT_TIMEOUT_MS, type DeliveryResult, deliverOne } from './deliver.js';

/** The part of a pino logger the worker uses. */
export interface WebhookLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Delivery attempts before a notification is given up: 20 spreads them over up to ~9 hours (2 s doubling,
 * capped at 1 h, full jitter). The default of WEBHOOK_MAX_ATTEMPTS too.
 */
export const DEFAULT_MAX_ATTEMPTS = 20;

export interface RemovalNotifierOptions {
  db: Db;
  /** The deployment's WEBHOOK_SIGNING_KEY. */
  signingKey: string;
  logger: WebhookLogger;
  pollIntervalMs?: number;
  batchSize?: number;
  /** Attempts in all (the first included) before a row is marked failed. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * How long a claimed row is hidden from other workers. Must outlast a delivery (timeoutMs) with
   * room to record it; a worker that dies mid-batch leaves its rows to be retried after it.
   */
  leaseMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Drives "now" for due rows, backoff and signature timestamps; tests pass a FakeClock. */
  clock?: Clock;
  fetchImpl?: typeof fetch;
  /** Development only (WEBHOOK_ALLOW_LOOPBACK): partners on this machine may be notified. */
  allowLoopback?: boolean;
  /** Source of jitter in [0, 1). */
  random?: () => number;
  /** False to poll only through runOnce() (tests). */
  autoStart?: boolean;
  /** Told each recorded outcome (a service counts them in its metrics); not told of lost leases. */
  onOutcome?: (outcome: DeliveryOutcome) => void;
  /** Longest wait between ticks while ticks fail (the outbox cannot be reached): capped exponential from pollIntervalMs. */
  maxTickBackoffMs?: number;
  /** Called once when ticks start failing (false) and once when one succeeds again (true): a metric, not a log per tick. */
  onHealthChange?: (up: boolean) => void;
}

/** What became of one recorded attempt. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

export interface RemovalNotifier {
  /** Stops polling and waits for the tick in flight, if any. */
  stop(): Promise<void>;
  /** Runs one tick now (after any tick in flight); resolves to the number of rows attempted. */
  runOnce(): Promise<number>;
}

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before the next attempt after `attempts` failed ones: "full jitter", a uniform draw in
 * [0, min(maxDelay, base * 2^(attempts-1))), so retries from one outage spread out.
 */
export function backoffDelay(attempts: number, { baseDelayMs, maxDelayMs }: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(ceiling * random());
}

export function startRemovalNotifier(options: RemovalNotifierOptions): RemovalNotifier {
  const {
    db,
    signingKey,
    logger,
    pollIntervalMs = 1_000,
    batchSize = 20,
    maxAttempts = DEFAULT_MAX_ATTEMPTS,
    baseDelayMs = 2_000,
    maxDelayMs = 3_600_000,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    leaseMs = 60_000,
    clock = systemClock,
    fetchImpl,
    allowLoopback = false,
    random = Math.random,
    autoStart = true,
    onOutcome,
    maxTickBackoffMs = 30_000,
    onHealthChange,
  } = options;
  if (!signingKey) throw new Error('startRemovalNotifier: signingKey is required');
  if (!(batchSize >= 1 && maxAttempts >= 1 && pollIntervalMs >= 0))
    throw new Error('startRemovalNotifier: batchSize and maxAttempts must be >= 1, pollIntervalMs >= 0');
  // Below this a slow partner could still be answering when another worker takes the row again.
  if (leaseMs < timeoutMs * 2) throw new Error('startRemovalNotifier: leaseMs must be at least twice timeoutMs');

  async function attempt(row: WebhookDeliveryRow): Promise<void> {
    const started = clock.now();
    // Signed with the client's secrets as they are now: a rotation after queuing must not leave the partner unable to verify.
    const versions = await webhookSecretVersions(db, row.client_id, new Date(started)).catch(() => undefined);
    const result = await deliverOne(versions ? { ...row, ...versions } : row, {
      signingKey,
      nowSeconds: Math.floor(started / 1000),
      timeoutMs,
      allowLoopback,
      ...(fetchImpl ? { fetchImpl } : {}),
    });
    await recordOutcome(row, result, clock.now() - started);
  }

  async function recordOutcome(row: WebhookDeliveryRow, result: DeliveryResult, durationMs: number): Promise<void> {
    const attemptNo = row.attempts + 1;
    const now = clock.now();
    const base = { id: row.id, client_id: row.client_id, attempt: attemptNo, status: result.status ?? null, duration_ms: durationMs };
    let update: Updateable<WebhookDeliveryTable>;
    let log: () => void;
    let outcome: DeliveryOutcome;
    if (result.ok) {
      outcome = 'delivered';
      update = { status: 'delivered', attempts: attemptNo, last_status: result.status, last_error: null, completed_at: new Date(now) };
      log = () => logger.info({ event: 'webhook.delivered', ...base }, 'removal notification delivered');
    } else if (attemptNo >= maxAttempts) {
      outcome = 'failed';
      update = {
        status: 'failed',
        attempts: attemptNo,
        last_status: result.status ?? null,
        last_error: result.error,
        completed_at: new Date(now),
      };
      log = () => logger.error({ event: 'webhook.failed', ...base, error: result.error }, 'removal notification failed, giving up');
    } else {
      outcome = 'retry';
      const next = new Date(now + backoffDelay(attemptNo, { baseDelayMs, maxDelayMs }, random));
      update = { attempts: attemptNo, last_status: result.status ?? null, last_error: result.error, next_attempt_at: next };
      log = () =>
        logger.warn(
          { event: 'webhook.retry', ...base, error: result.error, next_attempt_at: next.toISOString() },
          'removal notification will be retried',
        );
    }
    // Fenced on the claim: if our lease ran out and another worker took the row, its outcome stands.
    if (!(await recordDeliveryOutcome(db, row, update))) {
      logger.warn({ event: 'webhook.lease_lost', ...base }, 'delivery outcome not recorded: the row was claimed again');
      return;
    }
    log();
    onOutcome?.(outcome);
  }

  async function tick(): Promise<number> {
    const now = clock.now();
    const rows = await claimDueDeliveries(db, { now: new Date(now), leaseUntil: new Date(now + leaseMs), limit: batchSize });
    const outcomes = await Promise.allSettled(rows.map(attempt));
    for (const [i, outcome] of outcomes.entries()) {
      // The row stays leased and is retried once the lease ends.
      if (outcome.status === 'rejected') {
        logger.error(
          { event: 'webhook.record_failed', id: rows[i]?.id, error: errorText(outcome.reason) },
          'could not record delivery outcome',
        );
      }
    }
    return rows.length;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // Ticks run one after another, whether from the timer or runOnce().
  let chain: Promise<unknown> = Promise.resolve();

  function runOnce(): Promise<number> {
    const run = chain.then(() => (stopped ? 0 : tick()));
    chain = run.catch(() => {});
    return run;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(loop, delayMs);
    timer.unref();
  }

  /** Ticks failed in a row: while Postgres is away, wait 2, 4, 8… poll intervals (up to maxTickBackoffMs) between them. */
  let failedTicks = 0;

  async function loop(): Promise<void> {
    timer = undefined;
    let claimed = 0;
    try {
      claimed = await runOnce();
    } catch (err) {
      failedTicks++;
      // Logged once per outage, not once per tick: the state change is the news.
      if (failedTicks === 1) {
        logger.error({ event: 'webhook.worker_down', error: errorText(err) }, 'removal notifier cannot reach the outbox; backing off');
        onHealthChange?.(false);
      }
      schedule(Math.min(maxTickBackoffMs, Math.max(pollIntervalMs, 1) * 2 ** failedTicks));
      return;
    }
    if (failedTicks > 0) {
      logger.info({ event: 'webhook.worker_up', failed_ticks: failedTicks }, 'removal notifier reaches the outbox again');
      failedTicks = 0;
      onHealthChange?.(true);
    }
    // A full batch suggests a backlog: go again at once rather than after the interval.
    schedule(claimed >= batchSize ? 0 : pollIntervalMs);
  }

  if (autoStart) schedule(0);

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await chain;
    },
  };
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}
