// What an authorization code is bound to besides its client (RFC 6749 §4.1.2, §10.5): the client's code epoch and
// the (client, app) pair's ended grants, stamped at issue and re-checked at redemption in the call that issues the token.
import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../db.js';
import { assertStorable } from '../nul-guard.js';
import { precompiled } from '../precompiled.js';
import type { TokenLifetimes } from './clients.js';
import { expiryParams, type IssueTokenInput } from './grants.js';
import { newId } from './ids.js';

/** Stamped into a code when it is issued; the exchange refuses the code once either has moved. */
export interface CodeBinding {
  /** clients.code_epoch: redrawn when the client is disabled or its secret rotated without overlap. */
  epoch: string;
  /** How many authorizations of this partner on this app had ended: an integration removed since adds one. */
  endedGrants: number;
}

export const bindingQuery = precompiled((db: Db, { clientId, appId }: { clientId: string; appId: string }) =>
  db
    .selectFrom('clients as c')
    .select((eb) => [
      'c.code_epoch as epoch',
      // Counted as each ends (grant_ends, 0008), never lowered by the retention sweep.
      eb.selectFrom('grant_ends as g').select('g.ended').where('g.client_id', '=', clientId).where('g.app_id', '=', appId).as('ended'),
    ])
    .where('c.client_id', '=', clientId),
);

/** The binding a code for `clientId` on `appId` gets now; undefined when the client does not exist. */
export async function codeBinding(db: Db, clientId: string, appId: string): Promise<CodeBinding | undefined> {
  const [row] = await bindingQuery(db, { clientId, appId });
  return row ? { epoch: row.epoch, endedGrants: Number(row.ended ?? 0) } : undefined;
}

export interface CodeTokenInput extends IssueTokenInput {
  /** The redirect URI the code was issued for: it must still be registered. */
  redirectUri: string;
  /** The code's binding; null for a code issued before bindings existed (checked on client and redirect URI only). */
  binding: CodeBinding | null;
  /** The client secret the exchange authenticated with: it must still be the client's and live at `now`. Null: not checked. */
  secretId: string | null;
  /** The app clock's now, against which the secret's expiry is read. */
  now: Date;
  /**
   * The client's expiring-token setting `expiry` was computed from (as read with its credentials, perhaps a moment
   * ago): when given, the row is refused as 'client_changed' if the client's setting is no longer that one.
   */
  lifetimes?: TokenLifetimes | null;
}

/**
 * issued; client_refused: the client is not active, or the secret not live; grant_ended: what the code was bound to
 * has moved; client_changed: the client's expiring-token setting is not the input's `lifetimes` (nothing written).
 */
export type CodeTokenStatus = 'issued' | 'client_refused' | 'grant_ended' | 'client_changed' | 'replayed';

export type CodeTokenResult =
  | { status: 'issued'; authorizationId: string; tokenId: string }
  | { status: 'client_refused'; authorizationId: null; tokenId: null }
  | { status: 'grant_ended' | 'client_changed' | 'replayed'; authorizationId: null; tokenId: null };

/** Refuses (UnstorableTextError, a 400) an input with a NUL character, which no text column or JSON text can hold. */
export function assertCodeTokenStorable(input: CodeTokenInput): void {
  const { clientId, appId, accountId, scope, tokenHash, codeHash, redirectUri, secretId } = input;
  assertStorable([
    clientId,
    appId,
    accountId,
    scope,
    tokenHash,
    codeHash,
    redirectUri,
    secretId,
    input.binding?.epoch,
    input.expiry?.refreshHash,
  ]);
}

/** What issue_tokens_from_codes (migration 0008) reads per row: the parameters of issueTokenQuery, in snake case. */
function batchRow(input: CodeTokenInput, ordinal: number, tokenId: string) {
  assertCodeTokenStorable(input);
  const expiry = expiryParams(input.expiry);
  return {
    ordinal,
    auth_id: newId(),
    token_id: tokenId,
    client_id: input.clientId,
    app_id: input.appId,
    account_id: input.accountId,
    scope: input.scope,
    token_hash: input.tokenHash,
    code_hash: input.codeHash,
    redirect_uri: input.redirectUri,
    epoch: input.binding?.epoch ?? null,
    ended_grants: input.binding?.endedGrants ?? null,
    secret_id: input.secretId,
    now: input.now,
    expiring: input.lifetimes === undefined ? null : input.lifetimes !== null,
    access_lifetime: input.lifetimes?.accessSeconds ?? null,
    idle_lifetime: input.lifetimes?.refreshIdleSeconds ?? null,
    absolute_lifetime: input.lifetimes?.refreshAbsoluteSeconds ?? null,
    expires_at: expiry.expiresAt,
    refresh_id: expiry.refreshId,
    refresh_hash: expiry.refreshHash,
    refresh_expires_at: expiry.refreshExpiresAt,
    family_expires_at: expiry.familyExpiresAt,
  };
}

// Through the replay check (migration 0011): a code a replay has marked gets 'replayed', nothing written for it.
const ISSUE_BATCH_SQL = 'select ordinal, status, authorization_id from issue_tokens_from_unreplayed_codes($1::jsonb)';

/** A call of one row (every call at one connection): the same rules, arguments in columns, no JSON (migration 0012). */
const ONE_ROW_COLUMNS = [
  ['auth_id', 'text'],
  ['token_id', 'text'],
  ['client_id', 'text'],
  ['app_id', 'text'],
  ['account_id', 'text'],
  ['scope', 'text'],
  ['token_hash', 'text'],
  ['code_hash', 'text'],
  ['redirect_uri', 'text'],
  ['epoch', 'uuid'],
  ['ended_grants', 'int'],
  ['secret_id', 'text'],
  ['now', 'timestamptz'],
  ['expiring', 'boolean'],
  ['access_lifetime', 'int'],
  ['idle_lifetime', 'int'],
  ['absolute_lifetime', 'int'],
  ['expires_at', 'timestamptz'],
  ['refresh_id', 'text'],
  ['refresh_hash', 'text'],
  ['refresh_expires_at', 'timestamptz'],
  ['family_expires_at', 'timestamptz'],
] as const satisfies readonly (readonly [keyof ReturnType<typeof batchRow>, string])[];
/** Every field of batchRow but its ordinal is an argument: a field added there and not here fails to compile. */
type UnsentColumn = Exclude<keyof ReturnType<typeof batchRow>, 'ordinal' | (typeof ONE_ROW_COLUMNS)[number][0]>;
const everyColumnSent: [UnsentColumn] extends [never] ? true : UnsentColumn = true;
void everyColumnSent;
const ISSUE_ONE_SQL = `select status, authorization_id from issue_token_from_code(${ONE_ROW_COLUMNS.map(
  ([, type], i) => `$${i + 1}::${type}`,
).join(', ')})`;

/**
 * issueToken for redeemed codes, many in one call (one round trip, one commit): per input, the token and its
 * authorization are recorded only while the client (and the secret, if given) and what the code was bound to still
 * hold, with the rules of the single statement (grants.ts); a refused input writes nothing and the others go on.
 * Answered in the inputs' order. Any error fails every input (nothing is written): TokenIssueBatcher retries them alone.
 */
export async function issueTokensFromCodes(db: Db, inputs: readonly CodeTokenInput[]): Promise<CodeTokenResult[]> {
  if (inputs.length === 0) return [];
  const tokenIds = inputs.map(() => newId());
  const rows = inputs.map((input, i) => batchRow(input, i, tokenIds[i] as string));
  const [only] = rows;
  if (rows.length === 1 && only) {
    const result = await db.executeQuery<{ status: CodeTokenStatus; authorization_id: string | null }>(
      CompiledQuery.raw(
        ISSUE_ONE_SQL,
        ONE_ROW_COLUMNS.map(([column]) => only[column]),
      ),
    );
    const [row] = result.rows;
    if (row?.status === 'issued' && row.authorization_id !== null) {
      return [{ status: 'issued', authorizationId: row.authorization_id, tokenId: only.token_id }];
    }
    if (!row || row.status === 'issued') throw new Error('issueTokensFromCodes: the input was not answered');
    return [{ status: row.status, authorizationId: null, tokenId: null }];
  }
  const result = await db.executeQuery<{ ordinal: number; status: CodeTokenStatus; authorization_id: string | null }>(
    CompiledQuery.raw(ISSUE_BATCH_SQL, [JSON.stringify(rows)]),
  );
  const answers: (CodeTokenResult | undefined)[] = new Array(inputs.length);
  for (const row of result.rows) {
    if (row.status !== 'issued') answers[row.ordinal] = { status: row.status, authorizationId: null, tokenId: null };
    else if (row.authorization_id !== null) {
      answers[row.ordinal] = { status: 'issued', authorizationId: row.authorization_id, tokenId: tokenIds[row.ordinal] as string };
    }
  }
  return answers.map((a) => {
    if (!a) throw new Error('issueTokensFromCodes: an input was not answered');
    return a;
  });
}

/**
 * issueToken for one redeemed code (issueTokensFromCodes of one): the token and its authorization, or null (nothing
 * written) once the client, its secret or the grant behind the code has ended.
 */
export async function issueTokenFromCode(db: Db, input: CodeTokenInput): Promise<{ authorizationId: string; tokenId: string } | null> {
  const [result] = await issueTokensFromCodes(db, [input]);
  return result?.status === 'issued' ? { authorizationId: result.authorizationId, tokenId: result.tokenId } : null;
}

/** Voids every outstanding code of the client: they were issued under the epoch this replaces. */
export async function newCodeEpoch(db: Db, clientId: string): Promise<void> {
  await db.updateTable('clients').set({ code_epoch: sql`gen_random_uuid()` }).where('client_id', '=', clientId).execute();
}
