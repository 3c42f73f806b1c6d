// Group commit's scheduling, for any store round trip that can serve many callers at once: a call made while no
// batch is in flight goes at once (nothing added at one connection); calls made while one is in flight wait and go
// together as the next batch when it returns. No timer: the batch is whatever queued during the last round trip.

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

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
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
