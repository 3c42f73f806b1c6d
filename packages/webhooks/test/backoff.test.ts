// Retry delays: exponential ceiling, capped, with full jitter below it.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/index.js';

const opts = { baseDelayMs: 2_000, maxDelayMs: 3_600_000 };

describe('backoffDelay', () => {
  it('draws in [0, base * 2^(attempts-1)), capped at maxDelay', () => {
    for (let attempts = 1; attempts <= 40; attempts++) {
      const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempts - 1));
      expect(backoffDelay(attempts, opts, () => 0)).toBe(0);
      expect(backoffDelay(attempts, opts, () => 0.5)).toBe(Math.floor(ceiling / 2));
      expect(backoffDelay(attempts, opts, () => 0.999_999)).toBeLessThan(ceiling);
      expect(backoffDelay(attempts, opts, () => 0.999_999)).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.999));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempts, opts);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
  });

  it('doubles the ceiling per attempt until the cap', () => {
    const top = (attempts: number) => backoffDelay(attempts, opts, () => 1);
    expect([1, 2, 3, 4, 5].map(top)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000]);
    expect(top(12)).toBe(3_600_000);
    expect(top(1_000)).toBe(3_600_000);
  });
});
