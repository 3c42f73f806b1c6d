// 2026-11-30: issue_token_from_code(...), the code exchange's write for a call of one (issue 13): at one connection every
// call is one row, and the batch form's JSON, its sort and its wrapper cost that call more than its rows do.
import { type Kysely, sql } from 'kysely';

/*
 * One row of issue_tokens_from_unreplayed_codes (0011 around 0008), its arguments in columns instead of a JSON batch:
 * - the code's advisory lock taken shared, then, in a statement of its own (seeing a marker committed while this call
 *   waited for the lock), a replay's marker looked for: 'replayed', nothing written;
 * - the guard and the pair's live authorization taken FOR SHARE in one statement, as for the first row of a pair in
 *   0008: 'client_refused', 'grant_ended', 'client_changed', nothing written;
 * - the authorization joined (updated only when who granted it or its scope changed) or created, ON CONFLICT meeting a
 *   concurrent first consent; the access token under it, and the refresh token when refresh_hash is given.
 * The storage tests hold it to the batch form row for row (issue-batch.test.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function issue_token_from_code(
      p_auth_id text, p_token_id text, p_client_id text, p_app_id text, p_account_id text, p_scope text,
      p_token_hash text, p_code_hash text, p_redirect_uri text, p_epoch uuid, p_ended_grants int, p_secret_id text,
      p_now timestamptz, p_expiring boolean, p_access_lifetime int, p_idle_lifetime int, p_absolute_lifetime int,
      p_expires_at timestamptz, p_refresh_id text, p_refresh_hash text, p_refresh_expires_at timestamptz,
      p_family_expires_at timestamptz)
    returns table (status text, authorization_id text)
    language plpgsql
    as $fn$
    declare
      auth_id text;
      auth_granted_by text;
      auth_scope text;
      client_ok boolean;
      grant_ok boolean;
      settings_ok boolean;
    begin
      if p_code_hash is not null then
        perform pg_advisory_xact_lock_shared(hashtextextended(p_code_hash, 0));
        if exists (select 1 from replayed_codes q where q.code_hash = p_code_hash) then
          return query select 'replayed'::text, null::text;
          return;
        end if;
      end if;
      select l.id, l.granted_by, l.scope,
             c.status = 'active' and (p_secret_id is null or exists (
               select 1 from client_secrets s
               where s.id = p_secret_id and s.client_id = c.client_id and s.revoked_at is null
                 and (s.expires_at is null or s.expires_at > p_now))),
             (p_redirect_uri is null or p_redirect_uri = any(c.redirect_uris))
               and (p_epoch is null or c.code_epoch = p_epoch)
               and (p_ended_grants is null or p_ended_grants = coalesce((
                 select g.ended from grant_ends g where g.client_id = p_client_id and g.app_id = p_app_id), 0)),
             p_expiring is null or (c.expiring_tokens = p_expiring and (not p_expiring or
               (c.access_token_lifetime, c.refresh_token_idle_lifetime, c.refresh_token_absolute_lifetime)
                 = (p_access_lifetime, p_idle_lifetime, p_absolute_lifetime)))
        into auth_id, auth_granted_by, auth_scope, client_ok, grant_ok, settings_ok
      from clients c
      left join lateral (
        select a.id, a.granted_by, a.scope from authorizations a
        where a.client_id = c.client_id and a.app_id = p_app_id and a.revoked_at is null
        for share
      ) l on true
      where c.client_id = p_client_id;
      if not coalesce(client_ok, false) then
        return query select 'client_refused'::text, null::text;
        return;
      end if;
      if not grant_ok then
        return query select 'grant_ended'::text, null::text;
        return;
      end if;
      if not settings_ok then
        return query select 'client_changed'::text, null::text;
        return;
      end if;
      if auth_id is null then
        insert into authorizations as a (id, client_id, app_id, granted_by, scope)
        values (p_auth_id, p_client_id, p_app_id, p_account_id, p_scope)
        on conflict (client_id, app_id) where revoked_at is null
          do update set granted_by = excluded.granted_by, scope = excluded.scope
        returning a.id into auth_id;
      elsif (auth_granted_by, auth_scope) is distinct from (p_account_id, p_scope) then
        update authorizations a set granted_by = p_account_id, scope = p_scope where a.id = auth_id;
      end if;
      insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at)
      values (p_token_id, p_token_hash, auth_id, p_client_id, p_app_id, p_scope, p_code_hash, p_expires_at);
      if p_refresh_hash is not null then
        insert into refresh_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at,
          family_expires_at)
        values (p_refresh_id, p_refresh_hash, auth_id, p_client_id, p_app_id, p_scope, p_code_hash, p_refresh_expires_at,
          p_family_expires_at);
      end if;
      return query select 'issued'::text, auth_id;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function issue_token_from_code(text, text, text, text, text, text, text, text, text, uuid, int, text,
    timestamptz, boolean, int, int, int, timestamptz, text, text, timestamptz, timestamptz)`.execute(db);
}
