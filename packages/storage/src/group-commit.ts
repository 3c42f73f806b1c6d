// Group commit for the token endpoint's two writes (issue 13): the code exchange's (issue_tokens_from_codes) and the
// refresh grant's rotation (rotate_refresh_tokens). Writes arriving while one batch is in Postgres go together in the
// next: one call (one round trip, one commit) instead of one statement and commit each.
import { Coalescer, isStoreUnavailable, StoreUnavailableError } from '@partner-oauth/service-kit';
import type { Db } from './db.js';
import { assertCodeTokenStorable, type CodeTokenInput, type CodeTokenResult, issueTokensFromCodes } from './repositories/code-grants.js';
import { assertRotationStorable, type RotationInput, type RotationRow, rotateRefreshTokens } from './repositories/refresh-tokens.js';

export interface GroupCommitOptions<I, R> {
  /** Most inputs in one call. */
  maxBatch?: number;
  /**
   * Calls in flight at once. One measured best (Postgres CPU per token and throughput alike, 16 concurrent callers):
   * a second call in flight leaves the queue it would have taken to grow into a bigger batch.
   */
  maxInFlight?: number;
  /** The call a batch makes; tests wrap it to count calls. */
  write?: (db: Db, inputs: readonly I[]) => Promise<R[]>;
}

/** A member's own outcome: a result, or the error of its own one-row call. */
type Settled<R> = { result: R } | { error: unknown };

/**
 * Scheduled by service-kit's Coalescer (no timer): with nothing in flight an input goes at once (a lone write waits for
 * nobody), or, once calls come together, at the end of the event loop's turn with the others of that turn; while a call
 * is in flight inputs queue, and the queue goes as the next call when it returns. Each caller is
 * answered when its call has returned, so after its batch committed. A failed call (a deadlock, or one bad input: a
 * duplicate token hash, a malformed value) wrote nothing; its members are retried one per call, so only a member whose
 * own call fails gets an error, that one.
 */
export class GroupCommit<I, R> {
  readonly #calls: Coalescer<I, Settled<R>>;

  constructor(db: Db, write: (db: Db, inputs: readonly I[]) => Promise<R[]>, options: Omit<GroupCommitOptions<I, R>, 'write'> = {}) {
    // On a connection of its own, so a failure to get one is told apart: then the call was never sent, nothing was
    // written, and the caller may put back what it took (StoreUnavailableError.unsent).
    const call = async (inputs: readonly I[]): Promise<R[]> => {
      let sent = false;
      try {
        return await db.connection().execute((conn) => {
          sent = true;
          return write(conn, inputs);
        });
      } catch (error) {
        if (!sent && isStoreUnavailable(error)) throw new StoreUnavailableError('postgres', error, { unsent: true });
        throw error;
      }
    };
    const alone = (input: I): Promise<Settled<R>> =>
      call([input]).then(
        ([result]) => ({ result: result as R }),
        (error: unknown) => ({ error }),
      );
    this.#calls = new Coalescer(
      async (inputs) => {
        try {
          return (await call(inputs)).map((result) => ({ result }));
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

  /** The input's own result, once its batch committed. */
  async submit(input: I): Promise<R> {
    const settled = await this.#calls.submit(input);
    if ('error' in settled) throw settled.error;
    return settled.result;
  }
}

export type TokenIssueBatcherOptions = GroupCommitOptions<CodeTokenInput, CodeTokenResult>;

/** The code exchange's write (issue_tokens_from_codes), grouped. */
export class TokenIssueBatcher {
  readonly #group: GroupCommit<CodeTokenInput, CodeTokenResult>;

  constructor(db: Db, options: TokenIssueBatcherOptions = {}) {
    this.#group = new GroupCommit(db, options.write ?? issueTokensFromCodes, options);
  }

  async issue(input: CodeTokenInput): Promise<CodeTokenResult> {
    // Refused here, alone (a 400), rather than failing the JSON of a whole batch.
    assertCodeTokenStorable(input);
    return this.#group.submit(input);
  }
}

export type RotationBatcherOptions = GroupCommitOptions<RotationInput, RotationRow | null>;

/** The refresh grant's rotation (rotate_refresh_tokens), grouped: a row, or null when the token did not rotate. */
export class RotationBatcher {
  readonly #group: GroupCommit<RotationInput, RotationRow | null>;

  constructor(db: Db, options: RotationBatcherOptions = {}) {
    this.#group = new GroupCommit(db, options.write ?? rotateRefreshTokens, options);
  }

  async rotate(input: RotationInput): Promise<RotationRow | null> {
    assertRotationStorable(input);
    return this.#group.submit(input);
  }
}
