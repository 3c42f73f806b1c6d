// What an authorization code is bound to besides its client (RFC 6749 §4.1.2, §10.5): the client's code epoch and
// the (client, app) pair's ended grants, stamped at issue and re-checked at redemption in the statement that issues the token.
import { sql } from 'kysely';
import type { Db } from '../db.js';
import { precompiled } from '../precompiled.js';
import type { IssueTokenInput } from './grants.js';
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

/*
 * issueToken's statement behind one guard: the client is active, still registers the code's redirect URI,
 * is in the code's epoch, and no authorization of the pair ended since the code was issued. Folded into the
 * statement that issues the token, so a code checked is a code spent in one round trip (the primary-key read
 * of the client and an index count of the pair's ended grants are the added cost).
 */
export const issueFromCodeQuery = precompiled(
  (
    db: Db,
    {
      authId,
      tokenId,
      clientId,
      appId,
      accountId,
      scope,
      tokenHash,
      codeHash,
      redirectUri,
      epoch,
      endedGrants,
    }: {
      authId: string;
      tokenId: string;
      clientId: string;
      appId: string;
      accountId: string;
      scope: string;
      tokenHash: string;
      codeHash: string | null;
      redirectUri: string;
      epoch: string | null;
      endedGrants: number | null;
    },
  ) => ({
    compile: () =>
      sql<{ authorization_id: string }>`
        with guard as (
          select 1 from clients c
          where c.client_id = ${clientId} and c.status = 'active'
            and ${redirectUri}::text = any(c.redirect_uris)
            and (${epoch}::uuid is null or c.code_epoch = ${epoch}::uuid)
            and (${endedGrants}::int is null or ${endedGrants}::int = (
              select count(*) from authorizations e
              where e.client_id = ${clientId} and e.app_id = ${appId} and e.revoked_at is not null))
        ), existing as (
          -- FOR SHARE, as in issueToken: a token must not join an authorization that is being ended.
          select id from authorizations
          where client_id = ${clientId} and app_id = ${appId} and revoked_at is null and exists (select 1 from guard)
          for share
        ), changed as (
          update authorizations set granted_by = ${accountId}, scope = ${scope}
          where id in (select id from existing) and (granted_by, scope) is distinct from (${accountId}, ${scope})
          returning id
        ), created as (
          insert into authorizations (id, client_id, app_id, granted_by, scope)
          select ${authId}, ${clientId}, ${appId}, ${accountId}, ${scope}
          where not exists (select 1 from existing) and exists (select 1 from guard)
          on conflict (client_id, app_id) where revoked_at is null do update set granted_by = excluded.granted_by, scope = excluded.scope
          returning id
        ), auth as (
          select id from existing union all select id from created
        )
        insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash)
        select ${tokenId}, ${tokenHash}, auth.id, ${clientId}, ${appId}, ${scope}, ${codeHash} from auth
        limit 1
        returning authorization_id`.compile(db),
  }),
);

/**
 * issueToken for a redeemed code: the token and its authorization are recorded only while what the code
 * was bound to still holds; null (nothing written) once the grant behind the code has ended.
 */
export async function issueTokenFromCode(db: Db, input: CodeTokenInput): Promise<{ authorizationId: string; tokenId: string } | null> {
  const tokenId = newId();
  const [row] = await issueFromCodeQuery(db, {
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
  });
  return row ? { authorizationId: row.authorization_id, tokenId } : null;
}

/** Voids every outstanding code of the client: they were issued under the epoch this replaces. */
export async function newCodeEpoch(db: Db, clientId: string): Promise<void> {
  await db.updateTable('clients').set({ code_epoch: sql`gen_random_uuid()` }).where('client_id', '=', clientId).execute();
}
