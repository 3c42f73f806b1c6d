// Apps (workspaces) and who may act for them.
import { sql } from 'kysely';
import type { Db } from '../db.js';
import { precompiled } from '../precompiled.js';
import type { ClientRow } from '../schema.js';
import type { CodeBinding } from './code-grants.js';
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

/** An app the account may manage, and since when `clientId` has live access to it (null: none). */
export interface ManagedAppAccess extends AppView {
  liveSince: Date | null;
}

export const managedAppsAccessQuery = precompiled((db: Db, { accountId, clientId }: { accountId: string; clientId: string }) =>
  db
    .selectFrom('apps')
    .innerJoin('app_members', 'app_members.app_id', 'apps.id')
    .select((eb) => [
      'apps.id',
      'apps.name',
      // At most one live authorization per (client, app): the unique index authorizations_live_key.
      eb
        .selectFrom('authorizations as au')
        .select('au.granted_at')
        .whereRef('au.app_id', '=', 'apps.id')
        .where('au.client_id', '=', clientId)
        .where('au.revoked_at', 'is', null)
        .as('live_since'),
    ])
    .where('app_members.account_id', '=', accountId)
    .where('app_members.role', '=', INTEGRATION_MANAGER_ROLE)
    .orderBy('apps.name')
    .orderBy('apps.id'),
);

/**
 * listManagedApps, each app with findLiveAuthorization's `since` for `clientId`, in one round trip: what the
 * authorization request needs to show the app picker, or the consent page of the only app.
 */
export async function listManagedAppsAccess(db: Db, accountId: string, clientId: string): Promise<ManagedAppAccess[]> {
  const rows = await managedAppsAccessQuery(db, { accountId, clientId });
  return rows.map((r) => ({ id: r.id, name: r.name, liveSince: r.live_since }));
}

/** findManagedApp's row, for a subquery (the app, when `accountId` may manage its integrations; no outer reference). */
function managedAppRow(db: Db, appId: string, accountId: string) {
  return db
    .selectFrom('apps')
    .innerJoin('app_members', 'app_members.app_id', 'apps.id')
    .where('apps.id', '=', appId)
    .where('app_members.account_id', '=', accountId)
    .where('app_members.role', '=', INTEGRATION_MANAGER_ROLE);
}

export const managedAppBindingQuery = precompiled(
  (db: Db, { appId, accountId, clientId }: { appId: string; accountId: string; clientId: string }) =>
    db.selectNoFrom((eb) => {
      // findManagedApp's row, a column at a time (a scalar subquery has one): null when the account may not manage it.
      const managed = () => managedAppRow(db, appId, accountId);
      return [
        managed().select('apps.id').as('app_id'),
        managed().select('apps.name').as('app_name'),
        // codeBinding's two reads (bindingQuery), each its own subquery: a missing client leaves the app's answer alone.
        eb.selectFrom('clients as c').select('c.code_epoch').where('c.client_id', '=', clientId).as('epoch'),
        eb.selectFrom('grant_ends as g').select('g.ended').where('g.client_id', '=', clientId).where('g.app_id', '=', appId).as('ended'),
      ];
    }),
);

/**
 * findManagedApp and codeBinding in one statement (one round trip, one snapshot): the app, if `accountId` may
 * manage its integrations, and the binding a code for `clientId` on it gets now (undefined without the client).
 */
export async function findManagedAppWithBinding(
  db: Db,
  appId: string,
  accountId: string,
  clientId: string,
): Promise<{ app: AppView | undefined; binding: CodeBinding | undefined }> {
  const [row] = await managedAppBindingQuery(db, { appId, accountId, clientId });
  return {
    app: row?.app_id != null && row.app_name != null ? { id: row.app_id, name: row.app_name } : undefined,
    binding: row?.epoch != null ? { epoch: row.epoch, endedGrants: Number(row.ended ?? 0) } : undefined,
  };
}

export const clientManagedAppBindingQuery = precompiled(
  (db: Db, { clientId, appId, accountId }: { clientId: string; appId: string; accountId: string }) =>
    db
      .selectFrom('clients as c')
      .selectAll('c')
      .select((eb) => {
        // As managedAppBindingQuery, the epoch being the client row's own.
        const managed = () => managedAppRow(db, appId, accountId);
        return [
          managed().select('apps.id').as('chosen_app_id'),
          managed().select('apps.name').as('chosen_app_name'),
          eb
            .selectFrom('grant_ends as g')
            .select('g.ended')
            .whereRef('g.client_id', '=', 'c.client_id')
            .where('g.app_id', '=', appId)
            .as('chosen_ended'),
        ];
      })
      .where('c.client_id', '=', clientId),
);

/**
 * findClient and findManagedAppWithBinding in one statement: the client (undefined when there is none), and with it
 * the app, if `accountId` may manage it, and the binding a code for the client on that app gets now.
 */
export async function findClientWithManagedAppBinding(
  db: Db,
  clientId: string,
  appId: string,
  accountId: string,
): Promise<{ client: ClientRow; app: AppView | undefined; binding: CodeBinding } | undefined> {
  const [row] = await clientManagedAppBindingQuery(db, { clientId, appId, accountId });
  if (!row) return undefined;
  const { chosen_app_id, chosen_app_name, chosen_ended, ...client } = row;
  return {
    client,
    app: chosen_app_id != null && chosen_app_name != null ? { id: chosen_app_id, name: chosen_app_name } : undefined,
    binding: { epoch: client.code_epoch, endedGrants: Number(chosen_ended ?? 0) },
  };
}

export const clientManagedAppsQuery = precompiled((db: Db, { clientId, accountId }: { clientId: string; accountId: string }) =>
  db
    .selectFrom('clients as c')
    .selectAll('c')
    .select(
      // managedAppsAccessQuery's rows as one JSON array [id, name, since] in its order (a client row is not repeated
      // per app); `since` in epoch milliseconds, truncated as pg's own timestamptz reading truncates it.
      sql<
        [string, string, number | null][]
      >`(select coalesce(json_agg(json_build_array(a.id, a.name, (select floor(extract(epoch from au.granted_at) * 1000) from authorizations au where au.app_id = a.id and au.client_id = c.client_id and au.revoked_at is null)) order by a.name, a.id), '[]'::json) from apps a join app_members m on m.app_id = a.id where m.account_id = ${accountId} and m.role = ${INTEGRATION_MANAGER_ROLE})`.as(
        'managed_apps',
      ),
    )
    .where('c.client_id', '=', clientId),
);

/** findClient and listManagedAppsAccess in one statement: the client (undefined when there is none) and the account's apps. */
export async function findClientWithManagedApps(
  db: Db,
  clientId: string,
  accountId: string,
): Promise<{ client: ClientRow; apps: ManagedAppAccess[] } | undefined> {
  const [row] = await clientManagedAppsQuery(db, { clientId, accountId });
  if (!row) return undefined;
  const { managed_apps, ...client } = row;
  return { client, apps: managed_apps.map(([id, name, since]) => ({ id, name, liveSince: since === null ? null : new Date(since) })) };
}
