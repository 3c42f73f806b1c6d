// 2026-11-30: issue_tokens_from_codes(batch), the code exchange's write for many exchanges in one call (issue 13): one round
// trip and one commit for a batch instead of one per token, each row with the rules of grants.ts's issueTokenQuery.
import { type Kysely, sql } from 'kysely';

/*
 * Per row, the rules of the single statement (grants.ts, issueTokenQuery), plus a guard on the client secret:
 * - Behind the guard nothing is written: the client is active and, when secret_id is given, that secret is the
 *   client's, unrevoked and unexpired at `now` (else 'client_refused'); the redirect URI is still registered, the
 *   client still in the code's epoch, and the pair's ended-grant count (grant_ends) still ended_grants (else
 *   'grant_ended'), and, when `expiring` is given, the client's expiring-token setting is still the one the row's
 *   expiry was computed from (else 'client_changed': the caller read a setting since changed, and computes again).
 *   A null guard value is not checked.
 * - The pair's live authorization is taken FOR SHARE (an end waits for this commit, or, committed first, is no
 *   longer live and a new authorization is made), joined, and updated only when who granted it or its scope changed;
 *   without one it is created, two first consents meeting in ON CONFLICT.
 * - The access token goes under it; the refresh token too when refresh_hash is given.
 * Rows run sorted by (client_id, app_id, ordinal), so two batches take the authorization rows in the same order and
 * never wait on each other in a cycle. The lock and the guard are one statement for the first row of a pair, as in the
 * single statement; the later rows of the same pair read the guard again but not the lock: this transaction already
 * holds it (or created the row), so no end can come between, and the row is locked once per batch, not per token.
 * Rows are answered in that order with their ordinal; a refused row writes nothing and the others go on. Any error
 * (a duplicate token hash, a malformed value, a deadlock) fails the whole call: callers retry the rows one by one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // The pair's ended-grant count a code is bound to, kept apart from the rows the retention sweep deletes: counting
  // ended authorizations let a sweep lower it between a code's issue and its exchange (the code then refused).
  await sql`
    create table grant_ends (
      client_id text not null references clients (client_id) on delete cascade,
      app_id text not null references apps (id) on delete cascade,
      ended integer not null,
      primary key (client_id, app_id)
    )`.execute(db);
  await sql`
    insert into grant_ends (client_id, app_id, ended)
    select client_id, app_id, count(*) from authorizations where revoked_at is not null group by client_id, app_id`.execute(db);
  // In the database, so every path that ends an authorization counts, whichever release runs it.
  await sql`
    create function count_grant_end() returns trigger language plpgsql as $fn$
    begin
      insert into grant_ends (client_id, app_id, ended) values (new.client_id, new.app_id, 1)
      on conflict (client_id, app_id) do update set ended = grant_ends.ended + 1;
      return null;
    end
    $fn$`.execute(db);
  await sql`
    create trigger authorizations_count_end after update of revoked_at on authorizations
    for each row when (old.revoked_at is null and new.revoked_at is not null) execute function count_grant_end()`.execute(db);
  await sql`
    create function issue_tokens_from_codes(batch jsonb)
    returns table (ordinal int, status text, authorization_id text)
    language plpgsql
    as $fn$
    declare
      r record;
      pair_client text;
      pair_app text;
      auth_id text;
      auth_granted_by text;
      auth_scope text;
      first_of_pair boolean;
      found_id text;
      found_granted_by text;
      found_scope text;
      client_ok boolean;
      grant_ok boolean;
      settings_ok boolean;
    begin
      for r in
        select * from jsonb_to_recordset(batch) as x(
          ordinal int, auth_id text, token_id text, client_id text, app_id text, account_id text, scope text,
          token_hash text, code_hash text, redirect_uri text, epoch uuid, ended_grants int, secret_id text,
          now timestamptz, expiring boolean, access_lifetime int, idle_lifetime int, absolute_lifetime int, expires_at timestamptz, refresh_id text, refresh_hash text, refresh_expires_at timestamptz,
          family_expires_at timestamptz)
        order by x.client_id, x.app_id, x.ordinal
      loop
        client_ok := false;
        first_of_pair := pair_client is distinct from r.client_id or pair_app is distinct from r.app_id;
        select l.id, l.granted_by, l.scope,
               c.status = 'active' and (r.secret_id is null or exists (
                 select 1 from client_secrets s
                 where s.id = r.secret_id and s.client_id = c.client_id and s.revoked_at is null
                   and (s.expires_at is null or s.expires_at > r.now))),
               (r.redirect_uri is null or r.redirect_uri = any(c.redirect_uris))
                 and (r.epoch is null or c.code_epoch = r.epoch)
                 and (r.ended_grants is null or r.ended_grants = coalesce((
                   select g.ended from grant_ends g where g.client_id = r.client_id and g.app_id = r.app_id), 0)),
               r.expiring is null or (c.expiring_tokens = r.expiring and (not r.expiring or
                 (c.access_token_lifetime, c.refresh_token_idle_lifetime, c.refresh_token_absolute_lifetime)
                   = (r.access_lifetime, r.idle_lifetime, r.absolute_lifetime)))
          into found_id, found_granted_by, found_scope, client_ok, grant_ok, settings_ok
        from clients c
        -- The pair's live authorization, locked, only for its first row: later rows run under the lock already held.
        left join lateral (
          select a.id, a.granted_by, a.scope from authorizations a
          where first_of_pair and a.client_id = c.client_id and a.app_id = r.app_id and a.revoked_at is null
          for share
        ) l on true
        where c.client_id = r.client_id;
        if first_of_pair then
          auth_id := found_id;
          auth_granted_by := found_granted_by;
          auth_scope := found_scope;
          pair_client := r.client_id;
          pair_app := r.app_id;
        end if;
        ordinal := r.ordinal;
        authorization_id := null;
        if not coalesce(client_ok, false) then
          status := 'client_refused';
          return next;
          continue;
        end if;
        if not grant_ok then
          status := 'grant_ended';
          return next;
          continue;
        end if;
        if not settings_ok then
          status := 'client_changed';
          return next;
          continue;
        end if;
        if auth_id is null then
          insert into authorizations as a (id, client_id, app_id, granted_by, scope)
          values (r.auth_id, r.client_id, r.app_id, r.account_id, r.scope)
          on conflict (client_id, app_id) where revoked_at is null
            do update set granted_by = excluded.granted_by, scope = excluded.scope
          returning a.id, a.granted_by, a.scope into auth_id, auth_granted_by, auth_scope;
        elsif (auth_granted_by, auth_scope) is distinct from (r.account_id, r.scope) then
          update authorizations a set granted_by = r.account_id, scope = r.scope where a.id = auth_id;
          auth_granted_by := r.account_id;
          auth_scope := r.scope;
        end if;
        insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at)
        values (r.token_id, r.token_hash, auth_id, r.client_id, r.app_id, r.scope, r.code_hash, r.expires_at);
        if r.refresh_hash is not null then
          insert into refresh_tokens (id, token_hash, authorization_id, client_id, app_id, scope, code_hash, expires_at,
            family_expires_at)
          values (r.refresh_id, r.refresh_hash, auth_id, r.client_id, r.app_id, r.scope, r.code_hash, r.refresh_expires_at,
            r.family_expires_at);
        end if;
        status := 'issued';
        authorization_id := auth_id;
        return next;
      end loop;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function issue_tokens_from_codes(jsonb)`.execute(db);
  await sql`drop trigger authorizations_count_end on authorizations`.execute(db);
  await sql`drop function count_grant_end()`.execute(db);
  await sql`drop table grant_ends`.execute(db);
}
