// Group commit's scheduling, for any store round trip that can serve many callers at once: calls made while a batch
// is in flight wait and go together as the next batch when it returns. With none in flight, a call goes at once while
// calls come alone (nothing added at one connection); once a batch had company, it goes at the end of the event
// loop's turn (setImmediate), with the calls of the other requests read in the same turn. No timer: a batch is what
// queued during the last round trip, or in one turn.

export interface CoalescerOptions {
  /** Most items in one batch (the rest wait for the next). */
  maxBatch?: number;
  /** Batches allowed in flight at once. */
  maxInFlight?: number;
}

interface Waiter<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export class Coalescer<I, O> {
  private queue: Waiter<I, O>[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  /** `run` answers each item of a batch, in order; if it rejects, every caller of that batch gets the rejection. */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    options: CoalescerOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  /** A pump is set for the end of this turn of the event loop. */
  private scheduled = false;
  /** The size of the last batch sent: above one, calls are coming together, and a turn's calls are gathered. */
  private lastBatch = 1;

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.inFlight >= this.maxInFlight || this.scheduled) return;
      if (this.lastBatch <= 1) return this.pump();
      // docs/performance.md, item 28: the exchange at 16 connections gained, at one it did not move.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.lastBatch = batch.length;
      this.inFlight++;
      let answer: Promise<O[]>;
      try {
        answer = this.run(batch.map((w) => w.item));
      } catch (err) {
        answer = Promise.reject(err);
      }
      answer
        .then((results) => {
          if (results.length !== batch.length) throw new Error(`coalescer: ${results.length} answers for ${batch.length} items`);
          for (const [i, w] of batch.entries()) w.resolve(results[i] as O);
        })
        .catch((err: unknown) => {
          for (const w of batch) w.reject(err);
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
