// Connected integrations: the partners with live access to the apps an account owns, as app owners see them.
import type { Db } from '../db.js';
import { INTEGRATION_MANAGER_ROLE } from './apps.js';

export interface ConnectedIntegration {
  authorizationId: string;
  appId: string;
  appName: string;
  clientId: string;
  clientName: string;
  clientUri: string | null;
  logoUri: string | null;
  scope: string;
  since: Date;
}

/** Live authorizations on every app `accountId` owns, by app then partner name. */
export function listConnectedIntegrations(db: Db, accountId: string): Promise<ConnectedIntegration[]> {
  return db
    .selectFrom('authorizations as a')
    .innerJoin('app_members as m', (join) =>
      join.onRef('m.app_id', '=', 'a.app_id').on('m.account_id', '=', accountId).on('m.role', '=', INTEGRATION_MANAGER_ROLE),
    )
    .innerJoin('apps as p', 'p.id', 'a.app_id')
    .innerJoin('clients as c', 'c.client_id', 'a.client_id')
    .select([
      'a.id as authorizationId',
      'p.id as appId',
      'p.name as appName',
      'c.client_id as clientId',
      'c.client_name as clientName',
      'c.client_uri as clientUri',
      'c.logo_uri as logoUri',
      'a.scope as scope',
      'a.granted_at as since',
    ])
    .where('a.revoked_at', 'is', null)
    .orderBy('p.name')
    .orderBy('p.id')
    .orderBy('c.client_name')
    .execute();
}

/** The live authorization `authorizationId`, if it is on an app `accountId` owns: only owners may end one. */
export function findOwnedAuthorization(
  db: Db,
  authorizationId: string,
  accountId: string,
): Promise<{ authorizationId: string; clientId: string; clientName: string; appId: string; appName: string } | undefined> {
  return db
    .selectFrom('authorizations as a')
    .innerJoin('app_members as m', (join) =>
      join.onRef('m.app_id', '=', 'a.app_id').on('m.account_id', '=', accountId).on('m.role', '=', INTEGRATION_MANAGER_ROLE),
    )
    .innerJoin('apps as p', 'p.id', 'a.app_id')
    .innerJoin('clients as c', 'c.client_id', 'a.client_id')
    .select(['a.id as authorizationId', 'a.client_id as clientId', 'c.client_name as clientName', 'a.app_id as appId', 'p.name as appName'])
    .where('a.id', '=', authorizationId)
    .where('a.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** When `clientId` already has live access to `appId`, since when and with which scope. */
export function findLiveAuthorization(db: Db, clientId: string, appId: string): Promise<{ scope: string; since: Date } | undefined> {
  return db
    .selectFrom('authorizations')
    .select(['scope', 'granted_at as since'])
    .where('client_id', '=', clientId)
    .where('app_id', '=', appId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}
