// 2026-11-30: a replayed code is told to the code exchange's write in Postgres, not by a Redis flag read after its commit
// (issue 13): one round trip fewer per exchange, and the rule held by one transaction.
import { type Kysely, sql } from 'kysely';

/*
 * RFC 6749 §4.1.2: a code used twice ends every token issued from it. The code is taken from Redis by one script, so of
 * two redemptions one gets the grant and the other nothing; the second (the "replayer") must end what the first (the
 * "original") gets, whichever reaches Postgres first. Both meet on a transaction-level advisory lock keyed by the code's
 * hash: the original's write takes it shared for each of its codes, then looks for a marker; the replayer takes it
 * exclusive, leaves a marker, then revokes the code's tokens, each step a statement of its own (a snapshot of its own).
 * - The original's write holds the lock: the replayer waits for its commit, then revokes the tokens it committed.
 * - The replayer holds it, or has committed: the original sees the marker and writes nothing for that code ('replayed').
 * Shared locks never wait on each other: concurrent batches do not serialise. A marker lives past the longest code life
 * (the caller says how long) and is then pruned by the retention sweep; a marker for a code that never existed is harmless
 * (codes are 256 random bits).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table replayed_codes (
      code_hash text primary key,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index replayed_codes_expires_idx on replayed_codes (expires_at)`.execute(db);
  await sql`
    create function issue_tokens_from_unreplayed_codes(batch jsonb)
    returns table (ordinal int, status text, authorization_id text)
    language plpgsql
    as $fn$
    declare
      replayed int[];
    begin
      perform pg_advisory_xact_lock_shared(hashtextextended(e->>'code_hash', 0))
      from jsonb_array_elements(batch) e where e->>'code_hash' is not null;
      -- A statement after the locks, so a marker committed while this call waited for one is seen.
      select coalesce(array_agg((e->>'ordinal')::int), '{}') into replayed
      from jsonb_array_elements(batch) e join replayed_codes q on q.code_hash = e->>'code_hash';
      return query select x.ordinal, 'replayed'::text, null::text from unnest(replayed) as x(ordinal);
      return query select * from issue_tokens_from_codes(case when cardinality(replayed) = 0 then batch else (
        select coalesce(jsonb_agg(e), '[]'::jsonb) from jsonb_array_elements(batch) e
        where not ((e->>'ordinal')::int = any(replayed))) end);
    end
    $fn$`.execute(db);
  await sql`
    create function revoke_tokens_from_code(p_code_hash text, p_marker_lifetime interval)
    returns int
    language plpgsql
    as $fn$
    declare
      revoked int;
    begin
      perform pg_advisory_xact_lock(hashtextextended(p_code_hash, 0));
      insert into replayed_codes (code_hash, expires_at) values (p_code_hash, now() + p_marker_lifetime)
      on conflict (code_hash) do update set expires_at = greatest(replayed_codes.expires_at, excluded.expires_at);
      update refresh_tokens set revoked_at = now() where code_hash = p_code_hash and revoked_at is null;
      update access_tokens set revoked_at = now() where code_hash = p_code_hash and revoked_at is null;
      get diagnostics revoked = row_count;
      return revoked;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function revoke_tokens_from_code(text, interval)`.execute(db);
  await sql`drop function issue_tokens_from_unreplayed_codes(jsonb)`.execute(db);
  await sql`drop table replayed_codes`.execute(db);
}
