// What an authorization code is bound to besides its client (RFC 6749 §4.1.2, §10.5): the client's code epoch and
// the (client, app) pair's ended grants, stamped at issue and re-checked at redemption in the statement that issues the token.
import { sql } from 'kysely';
import type { Db } from '../db.js';
import { precompiled } from '../precompiled.js';
import { expiryParams, type IssueTokenInput, issueTokenQuery } from './grants.js';
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
      eb
        .selectFrom('authorizations as a')
        .select(eb.fn.countAll<string>().as('n'))
        .where('a.client_id', '=', clientId)
        .where('a.app_id', '=', appId)
        .where('a.revoked_at', 'is not', null)
        .as('ended'),
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
}

/**
 * issueToken for a redeemed code: the token and its authorization are recorded only while what the code
 * was bound to still holds; null (nothing written) once the grant behind the code has ended.
 */
export async function issueTokenFromCode(db: Db, input: CodeTokenInput): Promise<{ authorizationId: string; tokenId: string } | null> {
  const tokenId = newId();
  const [row] = await issueTokenQuery(db, {
    authId: newId(),
    tokenId,
    clientId: input.clientId,
    appId: input.appId,
    accountId: input.accountId,
    scope: input.scope,
    tokenHash: input.tokenHash,
    codeHash: input.codeHash,
    redirectUri: input.redirectUri,
    epoch: input.binding?.epoch ?? null,
    endedGrants: input.binding?.endedGrants ?? null,
    ...expiryParams(input.expiry),
  });
  return row ? { authorizationId: row.authorization_id, tokenId } : null;
}

/** Voids every outstanding code of the client: they were issued under the epoch this replaces. */
export async function newCodeEpoch(db: Db, clientId: string): Promise<void> {
  await db.updateTable('clients').set({ code_epoch: sql`gen_random_uuid()` }).where('client_id', '=', clientId).execute();
}
