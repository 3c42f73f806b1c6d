// Coalescer: what group commit promises its callers (one batch per round trip, answers in order, errors to their batch).
import { describe, expect, it } from 'vitest';
import { Coalescer } from '../src/coalescer.js';

/** A batch function whose round trips the test ends by hand, recording each batch it was given. */
function manual() {
  const batches: number[][] = [];
  const pending: { items: number[]; end: (err?: Error) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(items);
      pending.push({ items, end: (err) => (err ? reject(err) : resolve(items.map((n) => `answer ${n}`))) });
    });
  return { batches, pending, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('sends a lone call at once, and the calls made during its round trip together as the next batch', async () => {
    const m = manual();
    const c = new Coalescer(m.run);
    const first = c.submit(1);
    expect(m.batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => c.submit(n));
    await tick();
    expect(m.batches).toEqual([[1]]);
    m.pending.shift()?.end();
    expect(await first).toBe('answer 1');
    await tick();
    expect(m.batches).toEqual([[1], [2, 3, 4]]);
    m.pending.shift()?.end();
    expect(await Promise.all(rest)).toEqual(['answer 2', 'answer 3', 'answer 4']);
  });

  it('once a batch had company, gathers the calls of one turn of the event loop (requests read together) into one', async () => {
    const m = manual();
    const c = new Coalescer(m.run);
    // Busy: while the lone first call is out, two more queue and go together.
    const busy = [1, 2, 3].map((n) => c.submit(n));
    m.pending.shift()?.end();
    await tick();
    expect(m.batches).toEqual([[1], [2, 3]]);
    m.pending.shift()?.end();
    await Promise.all(busy);
    // Nothing in flight now. Two requests handled in one turn (as two sockets read in one poll), each making a call:
    // they go as one batch at the turn's end, where the first of them would have gone alone.
    await new Promise<void>((resolve) => {
      setImmediate(() => void c.submit(4));
      setImmediate(() => {
        void c.submit(5);
        resolve();
      });
    });
    expect(m.batches).toEqual([[1], [2, 3]]);
    await tick();
    expect(m.batches).toEqual([[1], [2, 3], [4, 5]]);
    m.pending.shift()?.end();
    // A lone call is gathered once (its turn had no other), and after a batch of one calls go at once again.
    await tick();
    const alone = c.submit(6);
    await tick();
    expect(m.batches.at(-1)).toEqual([6]);
    m.pending.shift()?.end();
    await alone;
    await tick();
    void c.submit(7);
    expect(m.batches.at(-1)).toEqual([7]);
    m.pending.shift()?.end();
  });

  it('keeps batches to maxBatch and up to maxInFlight of them going at once', async () => {
    const m = manual();
    const c = new Coalescer(m.run, { maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5, 6].map((n) => c.submit(n));
    await tick();
    expect(m.batches).toEqual([[1], [2]]);
    m.pending.shift()?.end();
    await tick();
    expect(m.batches).toEqual([[1], [2], [3, 4]]);
    while (m.pending.length > 0) {
      m.pending.shift()?.end();
      await tick();
    }
    expect(m.batches).toEqual([[1], [2], [3, 4], [5, 6]]);
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `answer ${n}`));
  });

  it('rejects every caller of a failed batch, and only those; the next batch still goes', async () => {
    const m = manual();
    const c = new Coalescer(m.run);
    const first = c.submit(1);
    const second = [c.submit(2), c.submit(3)];
    m.pending.shift()?.end(new Error('store down'));
    await expect(first).rejects.toThrow('store down');
    await tick();
    m.pending.shift()?.end();
    expect(await Promise.all(second)).toEqual(['answer 2', 'answer 3']);
  });

  it('rejects a batch whose answers do not match its items one to one, and a run that throws', async () => {
    const short = new Coalescer(async (items: number[]) => items.slice(1));
    await expect(Promise.all([short.submit(1), short.submit(2)])).rejects.toThrow('answers for');
    const throwing = new Coalescer<number, number>(() => {
      throw new Error('sync throw');
    });
    await expect(throwing.submit(1)).rejects.toThrow('sync throw');
  });
});
