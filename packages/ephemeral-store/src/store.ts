// A small key-value store with expiry: Redis in production, process memory in the embedded default.

import type { Clock } from '@partner-oauth/service-kit';
import { Coalescer, isStoreUnavailable, StoreUnavailableError, settleWithin, systemClock } from '@partner-oauth/service-kit';
import { Redis, type RedisOptions } from 'ioredis';

/** A counter that holds an operation back once it has reached `max` (a FailureThrottle's key and limit). */
export interface CounterLimit {
  key: string;
  max: number;
}

/** What takeIfMatches answers when a limit held it back: which limit (its index) and how long until that counter ends. */
export interface OverLimit {
  over: number;
  ttlMs: number;
}

/** What codes, sessions and pending requests need from short-lived storage. */
export interface EphemeralStore {
  /** Stores `value` under `key` for `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | null>;
  /** `get` of each key, in one round trip. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  /** Reads and deletes in one atomic step: of concurrent callers, one gets the value. */
  take(key: string): Promise<string | null>;
  /**
   * `take`, but only when the stored JSON object's `field` equals `expected`: otherwise the value stays
   * where it is and 'mismatch' is returned (one atomic step in Redis, a script). With `limits`, nothing is
   * taken while any of those counters has reached its max: the first such is named (the same step, so a
   * throttled caller's code costs no extra round trip and is left in place).
   */
  takeIfMatches(
    key: string,
    field: string,
    expected: string,
    limits?: readonly CounterLimit[],
  ): Promise<string | 'mismatch' | null | OverLimit>;
  del(key: string): Promise<void>;
  /** Adds one to a counter that lives `ttlMs` from its first increment; returns the new count. */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Milliseconds until `key` expires, or 0 when it does not exist. */
  ttl(key: string): Promise<number>;
  /** Resolves when the store answers; rejects when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const COMMAND_TIMEOUT_MS = 1_000;

/**
 * Atomic compare-and-take: {index, pttl} when the counter KEYS[index + 1] has reached its max ARGV[index + 2]
 * (nothing taken), nil when absent, 0 when the field differs (nothing deleted), else the value, deleted.
 */
const TAKE_IF_MATCHES = `
for i = 2, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if count >= tonumber(ARGV[i + 1]) then return {i - 2, redis.call('PTTL', KEYS[i])} end
end
local value = redis.call('GET', KEYS[1])
if not value then return false end
local ok, record = pcall(cjson.decode, value)
if not ok or type(record) ~= 'table' or record[ARGV[1]] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return value`;

/** The script's answer: the record taken, 0 for another client's, false (null) for none, [limit, ttl] when held back. */
type TakeResult = string | number | [number, number] | null;

type WithTakeIfMatches = Redis & {
  takeIfMatches(numberOfKeys: number, ...args: (string | number)[]): Promise<TakeResult>;
};

/** Whether a JSON text is an object whose `field` is exactly `expected`. */
function fieldMatches(value: string, field: string, expected: string): boolean {
  try {
    const record = JSON.parse(value) as unknown;
    return typeof record === 'object' && record !== null && (record as Record<string, unknown>)[field] === expected;
  } catch {
    return false;
  }
}

/**
 * Where Redis is, from REDIS_URL: `redis://` or `rediss://` for one server (ioredis reads those), or
 * `redis-sentinel://[:password@]host:port[,host:port…]/<master name>` to follow the master that
 * Redis Sentinel names, and fail over with it. Configuration, not code.
 */
export function sentinelTarget(url: string): RedisOptions | undefined {
  const match = /^redis-sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/?#]+)$/.exec(url);
  if (!url.startsWith('redis-sentinel:')) return undefined;
  if (!match) throw new Error('REDIS_URL: redis-sentinel:// needs host:port[,host:port…]/<master name>');
  const [, userinfo, hosts, name] = match as unknown as [string, string | undefined, string, string];
  const sentinels = hosts.split(',').map((hostPort) => {
    const colon = hostPort.lastIndexOf(':');
    return colon > 0 ? { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) } : { host: hostPort, port: 26379 };
  });
  const password = userinfo ? decodeURIComponent(userinfo.slice(userinfo.indexOf(':') + 1)) : undefined;
  return { sentinels, name: decodeURIComponent(name), ...(password ? { password, sentinelPassword: password } : {}) };
}

/** Unreachable or silent Redis becomes a StoreUnavailableError; a reply error (a bug) stays what it is. */
function storeError(err: unknown): unknown {
  return isStoreUnavailable(err) ? new StoreUnavailableError('redis', err) : err;
}

async function guard<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (err) {
    throw storeError(err);
  }
}

/** One takeIfMatches call's KEYS and ARGV, as the script takes them. */
type TakeArgs = [numberOfKeys: number, ...args: (string | number)[]];
type TakeReply = { reply: TakeResult } | { error: unknown };

export class RedisStore implements EphemeralStore {
  /**
   * Code redemptions sent while one is in flight (or in one turn of the event loop, once they come together: service-kit's
   * Coalescer) go together as one pipeline (one write, one read, for Redis too): a lone one goes as a plain command.
   * Each still runs as its own script, atomically.
   */
  readonly #takes: Coalescer<TakeArgs, TakeReply>;

  constructor(
    readonly redis: Redis,
    private readonly ownsClient = false,
  ) {
    // ioredis sends EVALSHA and falls back to EVAL once per connection; the key prefix applies to KEYS, whose
    // number each call gives first (the code's key and its limits' counters).
    if (!('takeIfMatches' in redis)) redis.defineCommand('takeIfMatches', { lua: TAKE_IF_MATCHES });
    const client = redis as WithTakeIfMatches;
    this.#takes = new Coalescer(async (calls): Promise<TakeReply[]> => {
      if (calls.length === 1) {
        return [
          await client.takeIfMatches(...(calls[0] as TakeArgs)).then(
            (reply) => ({ reply }),
            (error: unknown) => ({ error }),
          ),
        ];
      }
      const pipeline = redis.pipeline() as unknown as {
        takeIfMatches(...args: TakeArgs): void;
        exec(): Promise<[Error | null, TakeResult][] | null>;
      };
      for (const args of calls) pipeline.takeIfMatches(...args);
      const results = await pipeline.exec().catch((error: unknown) => calls.map((): [unknown, TakeResult] => [error, null]));
      return calls.map((_, i) => {
        const [error, reply] = results?.[i] ?? [new Error('takeIfMatches: no reply'), null];
        return error ? { error } : { reply };
      });
    });
  }

  static connect(url: string, keyPrefix: string): RedisStore {
    const sentinel = sentinelTarget(url);
    const options: RedisOptions = {
      keyPrefix,
      // Fail fast while Redis is unreachable: every command settles within a second.
      maxRetriesPerRequest: 1,
      // Each command is written when issued. Auto-pipelining (commands of one tick batched into one write) cost
      // token-service a quarter more CPU per exchange at one connection and saved nothing measurable at 16
      // (docs/performance.md, "What was changed").
      enableAutoPipelining: false,
      enableOfflineQueue: true,
      connectTimeout: 1_000,
      commandTimeout: COMMAND_TIMEOUT_MS,
      lazyConnect: false,
      // Reconnect forever, backing off to 500 ms, so service resumes by itself well within 2 s of Redis coming
      // back (tests/faults chaos.test.ts); two attempts a second per instance cost Redis nothing.
      retryStrategy: (attempt) => Math.min(attempt * 100, 500),
    };
    const redis = sentinel ? new Redis({ ...sentinel, ...options }) : new Redis(url, options);
    redis.on('error', () => {});
    // Queued commands are for start-up only: once connected, a command sent while Redis is away fails at
    // once rather than running later, after its caller was told it failed (a code consumed unseen).
    redis.once('ready', () => {
      redis.options.enableOfflineQueue = false;
    });
    return new RedisStore(redis, true);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await guard(this.redis.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs))));
  }
  get(key: string): Promise<string | null> {
    return guard(this.redis.get(key));
  }
  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return guard(this.redis.mget(...keys));
  }
  take(key: string): Promise<string | null> {
    return guard(this.redis.getdel(key));
  }
  async takeIfMatches(
    key: string,
    field: string,
    expected: string,
    limits: readonly CounterLimit[] = [],
  ): Promise<string | 'mismatch' | null | OverLimit> {
    const settled = await this.#takes.submit([
      1 + limits.length,
      key,
      ...limits.map((l) => l.key),
      field,
      expected,
      ...limits.map((l) => l.max),
    ]);
    if ('error' in settled) throw storeError(settled.error);
    const result = settled.reply;
    if (result === null) return null;
    if (Array.isArray(result)) return { over: result[0], ttlMs: Math.max(0, result[1]) };
    return typeof result === 'number' ? 'mismatch' : result;
  }
  async del(key: string): Promise<void> {
    await guard(this.redis.del(key));
  }
  async increment(key: string, ttlMs: number): Promise<number> {
    // One round trip; NX keeps the window fixed from the first increment.
    const results = await guard(
      this.redis
        .multi()
        .incr(key)
        .pexpire(key, Math.max(1, Math.ceil(ttlMs)), 'NX')
        .exec(),
    );
    const [err, count] = results?.[0] ?? [new Error('increment failed'), 0];
    if (err) throw err;
    return Number(count);
  }
  async ttl(key: string): Promise<number> {
    return Math.max(0, await guard(this.redis.pttl(key)));
  }
  async ping(): Promise<void> {
    await guard(this.redis.ping());
  }
  /** Bounded: a polite QUIT when connected, else (or if it does not answer in time) the socket is dropped. */
  async close(): Promise<void> {
    if (!this.ownsClient) return;
    if (this.redis.status === 'ready')
      await settleWithin(
        this.redis.quit().catch(() => undefined),
        COMMAND_TIMEOUT_MS,
      );
    this.redis.disconnect();
  }
}

/** In-process store with the same semantics; expiry follows the injected clock. */
export class MemoryStore implements EphemeralStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock = systemClock) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private live(key: string): { value: string; expiresAt: number } | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }
  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }
  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.live(key)?.value ?? null);
  }
  async take(key: string): Promise<string | null> {
    const entry = this.live(key);
    this.entries.delete(key);
    return entry?.value ?? null;
  }
  async takeIfMatches(
    key: string,
    field: string,
    expected: string,
    limits: readonly CounterLimit[] = [],
  ): Promise<string | 'mismatch' | null | OverLimit> {
    for (const [over, limit] of limits.entries()) {
      const counter = this.live(limit.key);
      if (counter && Number(counter.value) >= limit.max) return { over, ttlMs: counter.expiresAt - this.clock.now() };
    }
    const entry = this.live(key);
    if (!entry) return null;
    if (!fieldMatches(entry.value, field, expected)) return 'mismatch';
    this.entries.delete(key);
    return entry.value;
  }
  async del(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async increment(key: string, ttlMs: number): Promise<number> {
    const entry = this.live(key);
    const count = entry ? Number(entry.value) + 1 : 1;
    this.entries.set(key, { value: String(count), expiresAt: entry?.expiresAt ?? this.clock.now() + ttlMs });
    return count;
  }
  async ttl(key: string): Promise<number> {
    const entry = this.live(key);
    return entry ? entry.expiresAt - this.clock.now() : 0;
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}

/** Redis when a URL is configured, else memory. */
export function openEphemeralStore(opts: { redisUrl?: string | undefined; keyPrefix: string; clock?: Clock }): EphemeralStore {
  return opts.redisUrl ? RedisStore.connect(opts.redisUrl, opts.keyPrefix) : new MemoryStore(opts.clock);
}
