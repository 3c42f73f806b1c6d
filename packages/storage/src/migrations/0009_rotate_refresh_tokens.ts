// 2026-11-30: rotate_refresh_tokens(batch), the refresh grant's write for many refreshes in one call (issue 13): one round
// trip and one commit for a batch instead of one per rotation, each row with the rules of refresh-tokens.ts's
// rotateRefreshTokenQuery.
import { type Kysely, sql } from 'kysely';

/*
 * Per row, the single statement (rotateRefreshTokenQuery), unchanged: the client active with the expiring-token setting
 * and, when secret_id is given, that secret live at `now`; the authorization share-locked; the presented token marked
 * used only while it is the client's, unused, unrevoked and unexpired, and `scope` within its scope; the new access and
 * refresh tokens under the same authorization. A row that does not rotate answers nothing and the others go on.
 * Rows run sorted by (token_hash, ordinal): two batches take the presented tokens' row locks in the same order, and of
 * two rotations of one token in a batch the first to arrive wins, the second finds it used (as a second statement
 * would, after waiting on the first's lock). Any error (a duplicate token hash, a malformed value, a deadlock) fails the
 * whole call, nothing written: callers retry the rows one by one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function rotate_refresh_tokens(batch jsonb)
    returns table (ordinal int, authorization_id text, app_id text, scope text, access_expires_at timestamptz)
    language plpgsql
    as $fn$
    #variable_conflict use_column
    declare
      r record;
    begin
      for r in
        select * from jsonb_to_recordset(batch) as x(
          ordinal int, client_id text, secret_id text, token_hash text, now timestamptz, scope text,
          access_id text, access_hash text, refresh_id text, refresh_hash text)
        order by x.token_hash, x.ordinal
      loop
        return query
          with client as (
            select access_token_lifetime, refresh_token_idle_lifetime from clients c
            where c.client_id = r.client_id and c.status = 'active' and c.expiring_tokens
              and (r.secret_id is null or exists (
                select 1 from client_secrets s
                where s.id = r.secret_id and s.client_id = c.client_id and s.revoked_at is null
                  and (s.expires_at is null or s.expires_at > r.now)))
          ), auth as (
            select a.id from authorizations a
            join refresh_tokens p on p.authorization_id = a.id
            where p.token_hash = r.token_hash and p.client_id = r.client_id and a.revoked_at is null
              and exists (select 1 from client)
            for share of a
          ), used as (
            update refresh_tokens u set used_at = r.now
            where u.token_hash = r.token_hash and u.client_id = r.client_id
              and u.authorization_id in (select id from auth)
              and u.used_at is null and u.revoked_at is null and u.expires_at > r.now
              and (r.scope is null or string_to_array(r.scope, ' ') <@ string_to_array(u.scope, ' '))
            returning u.authorization_id, u.app_id, u.scope, u.code_hash, u.family_expires_at
          ), access as (
            insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at)
            select r.access_id, r.access_hash, u.authorization_id, r.client_id, u.app_id, coalesce(r.scope, u.scope), u.code_hash,
              r.now + make_interval(secs => c.access_token_lifetime)
            from used u cross join client c
            returning authorization_id, app_id, scope, expires_at
          ), refreshed as (
            insert into refresh_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at,
              family_expires_at)
            select r.refresh_id, r.refresh_hash, u.authorization_id, r.client_id, u.app_id, u.scope, u.code_hash,
              least(r.now + make_interval(secs => c.refresh_token_idle_lifetime), u.family_expires_at), u.family_expires_at
            from used u cross join client c
            where exists (select 1 from access)
          )
          select r.ordinal, x.authorization_id, x.app_id, x.scope, x.expires_at from access x;
      end loop;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function rotate_refresh_tokens(jsonb)`.execute(db);
}
