// Group commit for the code exchange's write (issue 13): exchanges arriving while one batch is in Postgres go together in
// the next, one issue_tokens_from_codes call (one round trip, one commit) instead of one statement and commit each.
import type { Db } from './db.js';
import { assertCodeTokenStorable, type CodeTokenInput, type CodeTokenResult, issueTokensFromCodes } from './repositories/code-grants.js';

export interface TokenIssueBatcherOptions {
  /** Most inputs in one call. */
  maxBatch?: number;
  /**
   * Calls in flight at once. One measured best (Postgres CPU per token and throughput alike, 16 concurrent callers):
   * a second call in flight leaves the queue it would have taken to grow into a bigger batch.
   */
  maxInFlight?: number;
  /** The call a batch makes; tests wrap it to count calls. */
  issue?: typeof issueTokensFromCodes;
}

interface Member {
  input: CodeTokenInput;
  resolve: (result: CodeTokenResult) => void;
  reject: (err: unknown) => void;
}

/**
 * No timer: with nothing in flight an input goes at once (a lone exchange waits for nobody); while a call is in flight
 * inputs queue, and the queue goes as the next call when it returns. Each caller is answered when its call has
 * returned, so after its batch committed. A failed call (a deadlock, or one bad input: a duplicate token hash, a
 * malformed value) wrote nothing; its members are retried one per call, so only a member whose own call fails gets
 * an error, that one.
 */
export class TokenIssueBatcher {
  readonly #db: Db;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #issue: typeof issueTokensFromCodes;
  readonly #queue: Member[] = [];
  #inFlight = 0;

  constructor(db: Db, options: TokenIssueBatcherOptions = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 64;
    this.#maxInFlight = options.maxInFlight ?? 1;
    this.#issue = options.issue ?? issueTokensFromCodes;
  }

  issue(input: CodeTokenInput): Promise<CodeTokenResult> {
    return new Promise((resolve, reject) => {
      // Refused here, alone (a 400), rather than failing the JSON of a whole batch.
      assertCodeTokenStorable(input);
      this.#queue.push({ input, resolve, reject });
      this.#send();
    });
  }

  #send(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#send();
      });
    }
  }

  async #run(batch: Member[]): Promise<void> {
    let results: CodeTokenResult[];
    try {
      results = await this.#issue(
        this.#db,
        batch.map((m) => m.input),
      );
    } catch (err) {
      if (batch.length === 1) batch[0]?.reject(err);
      else await Promise.all(batch.map((m) => this.#alone(m)));
      return;
    }
    for (const [i, m] of batch.entries()) m.resolve(results[i] as CodeTokenResult);
  }

  /** A member of a failed call, in a call of its own: its own result, or its own error. */
  async #alone(m: Member): Promise<void> {
    try {
      const [result] = await this.#issue(this.#db, [m.input]);
      m.resolve(result as CodeTokenResult);
    } catch (err) {
      m.reject(err);
    }
  }
}
