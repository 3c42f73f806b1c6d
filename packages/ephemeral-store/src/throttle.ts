// Failure throttling: after `max` failures for a key within a window, the key is refused until the window ends.
import type { CounterLimit, EphemeralStore } from './store.js';

export interface ThrottleState {
  blocked: boolean;
  /** Seconds until the window ends (for Retry-After), when blocked. */
  retryAfterSeconds: number;
}

export class FailureThrottle {
  constructor(
    private readonly store: EphemeralStore,
    private readonly name: string,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  private key(subject: string): string {
    return `throttle:${this.name}:${subject}`;
  }

  /** The subject's counter and its limit, for a store operation that must not run once the subject is blocked. */
  limit(subject: string): CounterLimit {
    return { key: this.key(subject), max: this.max };
  }

  /** The state of a subject blocked for `ttlMs` more (its counter's remaining life), as Retry-After wants it. */
  static blockedFor(ttlMs: number): ThrottleState {
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
  }

  async state(subject: string): Promise<ThrottleState> {
    const key = this.key(subject);
    const count = Number((await this.store.get(key)) ?? 0);
    if (count < this.max) return { blocked: false, retryAfterSeconds: 0 };
    return FailureThrottle.blockedFor(await this.store.ttl(key));
  }

  /**
   * The subject's state and other counters' (on the same store) in one read (MGET): blocked while any is at its limit,
   * for the first such in order, this subject's first.
   */
  async stateAmong(subject: string, others: readonly CounterLimit[]): Promise<ThrottleState> {
    const limits = [this.limit(subject), ...others];
    const counts = await this.store.getMany(limits.map((l) => l.key));
    const over = limits.find((l, i) => Number(counts[i] ?? 0) >= l.max);
    if (!over) return { blocked: false, retryAfterSeconds: 0 };
    return FailureThrottle.blockedFor(await this.store.ttl(over.key));
  }

  /** Records a failure; returns the state after it. */
  async fail(subject: string): Promise<ThrottleState> {
    const key = this.key(subject);
    const count = await this.store.increment(key, this.windowMs);
    if (count < this.max) return { blocked: false, retryAfterSeconds: 0 };
    return FailureThrottle.blockedFor(await this.store.ttl(key));
  }

  async reset(subject: string): Promise<void> {
    await this.store.del(this.key(subject));
  }
}
