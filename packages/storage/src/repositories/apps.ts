// Apps (workspaces) and who may act for them.
import type { Db } from '../db.js';
import { newAppId } from './ids.js';

export interface AppView {
  id: string;
  name: string;
}

export async function createApp(db: Db, name: string, id = newAppId()): Promise<string> {
  await db.insertInto('apps').values({ id, name }).execute();
  return id;
}

export async function addAppMember(db: Db, appId: string, accountId: string, role: 'owner' | 'member' = 'owner'): Promise<void> {
  await db
    .insertInto('app_members')
    .values({ app_id: appId, account_id: accountId, role })
    .onConflict((oc) => oc.columns(['app_id', 'account_id']).doUpdateSet({ role }))
    .execute();
}

export function listAppsForAccount(db: Db, accountId: string): Promise<AppView[]> {
  return db
    .selectFrom('apps')
    .innerJoin('app_members', 'app_members.app_id', 'apps.id')
    .select(['apps.id', 'apps.name'])
    .where('app_members.account_id', '=', accountId)
    .orderBy('apps.name')
    .orderBy('apps.id')
    .execute();
}

/** The app, if `accountId` is one of its members. */
export function findMemberApp(db: Db, appId: string, accountId: string): Promise<AppView | undefined> {
  return db
    .selectFrom('apps')
    .innerJoin('app_members', 'app_members.app_id', 'apps.id')
    .select(['apps.id', 'apps.name'])
    .where('apps.id', '=', appId)
    .where('app_members.account_id', '=', accountId)
    .executeTakeFirst();
}

/**
 * Who may connect a partner to an app, see it among the app's integrations and remove it: one role, used by
 * the app picker, the consent decision and /integrations alike, so nobody grants what they cannot take back.
 */
export const INTEGRATION_MANAGER_ROLE = 'owner' as const;

/** The apps whose integrations `accountId` may manage: the only ones the app picker offers. */
export function listManagedApps(db: Db, accountId: string): Promise<AppView[]> {
  return db
    .selectFrom('apps')
    .innerJoin('app_members', 'app_members.app_id', 'apps.id')
    .select(['apps.id', 'apps.name'])
    .where('app_members.account_id', '=', accountId)
    .where('app_members.role', '=', INTEGRATION_MANAGER_ROLE)
    .orderBy('apps.name')
    .orderBy('apps.id')
    .execute();
}

/** The app, if `accountId` may manage its integrations (and so connect a partner to it). */
export function findManagedApp(db: Db, appId: string, accountId: string): Promise<AppView | undefined> {
  return db
    .selectFrom('apps')
    .innerJoin('app_members', 'app_members.app_id', 'apps.id')
    .select(['apps.id', 'apps.name'])
    .where('apps.id', '=', appId)
    .where('app_members.account_id', '=', accountId)
    .where('app_members.role', '=', INTEGRATION_MANAGER_ROLE)
    .executeTakeFirst();
}

export function findApp(db: Db, appId: string): Promise<AppView | undefined> {
  return db.selectFrom('apps').select(['id', 'name']).where('id', '=', appId).executeTakeFirst();
}
