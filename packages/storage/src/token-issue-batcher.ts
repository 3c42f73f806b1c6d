// Group commit for the code exchange's write (issue 13): exchanges arriving while one batch is in Postgres go together in
// the next, one issue_tokens_from_codes call (one round trip, one commit) instead of one statement and commit each.
import { Coalescer, isStoreUnavailable, StoreUnavailableError } from '@partner-oauth/service-kit';
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

/** A member's own outcome: a result, or the error of its own one-row call. */
type Settled = { result: CodeTokenResult } | { error: unknown };

/**
 * Scheduled by service-kit's Coalescer (no timer): with nothing in flight an input goes at once (a lone exchange waits
 * for nobody); while a call is in flight inputs queue, and the queue goes as the next call when it returns. Each caller
 * is answered when its call has returned, so after its batch committed. A failed call (a deadlock, or one bad input:
 * a duplicate token hash, a malformed value) wrote nothing; its members are retried one per call, so only a member
 * whose own call fails gets an error, that one.
 */
export class TokenIssueBatcher {
  readonly #calls: Coalescer<CodeTokenInput, Settled>;

  constructor(db: Db, options: TokenIssueBatcherOptions = {}) {
    const write = options.issue ?? issueTokensFromCodes;
    // On a connection of its own, so a failure to get one is told apart: then the call was never sent, nothing was
    // written, and the caller may give the code back (StoreUnavailableError.unsent).
    const issue = async (database: Db, inputs: readonly CodeTokenInput[]): Promise<CodeTokenResult[]> => {
      let sent = false;
      try {
        return await database.connection().execute((conn) => {
          sent = true;
          return write(conn, inputs);
        });
      } catch (error) {
        if (!sent && isStoreUnavailable(error)) throw new StoreUnavailableError('postgres', error, { unsent: true });
        throw error;
      }
    };
    const alone = (input: CodeTokenInput): Promise<Settled> =>
      issue(db, [input]).then(
        ([result]) => ({ result: result as CodeTokenResult }),
        (error: unknown) => ({ error }),
      );
    this.#calls = new Coalescer(
      async (inputs) => {
        try {
          return (await issue(db, inputs)).map((result) => ({ result }));
        } catch (error) {
          // Postgres unreachable, or lost mid-call (the batch may have committed): every member hears so, none is
          // written again. Any other failure wrote nothing and is one row's: each member goes alone.
          if (inputs.length === 1 || isStoreUnavailable(error)) return inputs.map(() => ({ error }));
          return Promise.all(inputs.map(alone));
        }
      },
      { maxBatch: options.maxBatch ?? 64, maxInFlight: options.maxInFlight ?? 1 },
    );
  }

  async issue(input: CodeTokenInput): Promise<CodeTokenResult> {
    // Refused here, alone (a 400), rather than failing the JSON of a whole batch.
    assertCodeTokenStorable(input);
    const settled = await this.#calls.submit(input);
    if ('error' in settled) throw settled.error;
    return settled.result;
  }
}
