// Store outages as one recognisable error: Redis or Postgres unreachable or too slow becomes a 503, never a 500.

/** Seconds a client is asked to wait before retrying while a store is unreachable (RFC 9110 §10.2.3). */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** A store (Redis or Postgres) could not be reached or did not answer in time; the operation did not happen. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  readonly store: 'redis' | 'postgres';
  /**
   * True when the operation was certainly never sent (no connection could be had), so it certainly did not happen;
   * false when it may have reached the store before the failure (its outcome is unknown).
   */
  readonly unsent: boolean;

  constructor(store: 'redis' | 'postgres', cause: unknown, opts: { unsent?: boolean } = {}) {
    super(`${store} is unavailable`, { cause });
    this.store = store;
    this.unsent = opts.unsent ?? false;
  }
}

/** Socket-level failures, whichever client saw them. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Postgres SQLSTATEs meaning "not now" rather than "wrong": connection exceptions (08), the server shutting
 * down or starting (57P01-57P03), a cancelled statement (57014, our statement_timeout), too many connections.
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '57014' || code === '53300';
}

/** What pg and ioredis raise without a code when the server is gone or silent. */
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error',
  'Command timed out',
  'Connection is closed.',
  "Stream isn't writeable",
];
const REDIS_ERRORS = new Set(['MaxRetriesPerRequestError', 'AbortError', 'InterruptError']);

/** Whether `err` (or its cause) says a store was unreachable, as opposed to a bug or a bad request. */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof StoreUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isUnavailableSqlState(code)))) return true;
    if (REDIS_ERRORS.has(e.name)) return true;
    if (UNAVAILABLE_MESSAGES.some((m) => e instanceof Error && e.message.startsWith(m))) return true;
  }
  return false;
}

/** Settles with `promise`, or resolves after `ms` whatever it does: closing a pool must not wait on a dead server. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([promise.then(() => undefined), bound]);
  } finally {
    clearTimeout(timer);
  }
}
