// Authorizations (a partner's access to an app) and the access tokens issued under them.
import type { Db } from '../db.js';
import { newId } from './ids.js';

export interface IssueTokenInput {
  clientId: string;
  appId: string;
  accountId: string;
  scope: string;
  tokenHash: string;
  codeHash: string | null;
}

/**
 * Records the grant and its token in one transaction: the live authorization of
 * this partner on this app is created, or joined by the new consent.
 */
export async function issueToken(db: Db, input: IssueTokenInput): Promise<{ authorizationId: string; tokenId: string }> {
  return db.transaction().execute(async (trx) => {
    const auth = await trx
      .insertInto('authorizations')
      .values({ id: newId(), client_id: input.clientId, app_id: input.appId, granted_by: input.accountId, scope: input.scope })
      .onConflict((oc) =>
        oc
          .columns(['client_id', 'app_id'])
          .where('revoked_at', 'is', null)
          .doUpdateSet({ granted_by: input.accountId, scope: input.scope }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    const tokenId = newId();
    await trx
      .insertInto('access_tokens')
      .values({
        id: tokenId,
        token_hash: input.tokenHash,
        authorization_id: auth.id,
        client_id: input.clientId,
        app_id: input.appId,
        scope: input.scope,
        code_hash: input.codeHash,
      })
      .execute();
    return { authorizationId: auth.id, tokenId };
  });
}

export interface ActiveToken {
  tokenId: string;
  authorizationId: string;
  clientId: string;
  appId: string;
  appName: string;
  scope: string;
  accountId: string;
  createdAt: Date;
}

/** The token behind `tokenHash` if it, its authorization and its client are all live. */
export async function findActiveToken(db: Db, tokenHash: string): Promise<ActiveToken | undefined> {
  const row = await db
    .selectFrom('access_tokens as t')
    .innerJoin('authorizations as a', 'a.id', 't.authorization_id')
    .innerJoin('clients as c', 'c.client_id', 't.client_id')
    .innerJoin('apps as p', 'p.id', 't.app_id')
    .select([
      't.id as tokenId',
      't.authorization_id as authorizationId',
      't.client_id as clientId',
      't.app_id as appId',
      'p.name as appName',
      't.scope as scope',
      'a.granted_by as accountId',
      't.created_at as createdAt',
    ])
    .where('t.token_hash', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .where('a.revoked_at', 'is', null)
    .where('c.status', '=', 'active')
    .executeTakeFirst();
  return row;
}
