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

export function findApp(db: Db, appId: string): Promise<AppView | undefined> {
  return db.selectFrom('apps').select(['id', 'name']).where('id', '=', appId).executeTakeFirst();
}
