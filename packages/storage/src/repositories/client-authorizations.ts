// The installations of one partner client, as the admin API lists them: app, granted by, when, scope.
import { sql } from 'kysely';
import type { Db } from '../db.js';

export interface ClientAuthorization {
  id: string;
  app_id: string;
  app_name: string;
  granted_by: string;
  granted_by_email: string;
  scope: string;
  granted_at: Date;
}

/** Live authorizations of the client, oldest first, resuming after the authorization `afterId`. */
export function listClientAuthorizations(
  db: Db,
  clientId: string,
  opts: { limit: number; afterId?: string | undefined },
): Promise<ClientAuthorization[]> {
  let q = db
    .selectFrom('authorizations as a')
    .innerJoin('apps as p', 'p.id', 'a.app_id')
    .innerJoin('accounts as u', 'u.id', 'a.granted_by')
    .select([
      'a.id as id',
      'a.app_id as app_id',
      'p.name as app_name',
      'a.granted_by as granted_by',
      'u.email as granted_by_email',
      'a.scope as scope',
      'a.granted_at as granted_at',
    ])
    .where('a.client_id', '=', clientId)
    .where('a.revoked_at', 'is', null)
    .orderBy('a.granted_at')
    .orderBy('a.id')
    .limit(opts.limit);
  if (opts.afterId !== undefined) {
    q = q.where(sql<boolean>`(a.granted_at, a.id) > (select x.granted_at, x.id from authorizations x where x.id = ${opts.afterId})`);
  }
  return q.execute();
}

/** The live authorization `id` of the client, if any. */
export function findClientAuthorization(
  db: Db,
  clientId: string,
  id: string,
): Promise<{ id: string; app_id: string; scope: string } | undefined> {
  return db
    .selectFrom('authorizations')
    .select(['id', 'app_id', 'scope'])
    .where('client_id', '=', clientId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}
