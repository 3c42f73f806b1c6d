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
  /** Who granted (or last renewed) the access. */
  grantedBy: string;
  /** Last use by the partner, recorded at most once an hour (USAGE_RECORD_INTERVAL); null when not since recording began. */
  lastUsed: Date | null;
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
    .innerJoin('accounts as g', 'g.id', 'a.granted_by')
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
      'g.email as grantedBy',
      'a.last_used_at as lastUsed',
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

/** How stale "last used" may be: a use within this long of the recorded one is not written again. */
export const USAGE_RECORD_INTERVAL_MS = 60 * 60_000;

/**
 * Records that the partner used `authorizationId` now, unless a use was recorded within the interval: one
 * conditional UPDATE that writes nothing when the recorded use is recent. True when it wrote.
 */
export async function recordAuthorizationUse(db: Db, authorizationId: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('authorizations')
    .set({ last_used_at: now })
    .where('id', '=', authorizationId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - USAGE_RECORD_INTERVAL_MS))]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
