// `pnpm bench --scale`: 10,000 partners, 100,000 apps and 1 million live tokens, bulk-loaded in SQL (not the API).
import pg from 'pg';

const PARTNERS = 10_000;
const APPS = 100_000;
const TOKENS = 1_000_000;

/** The raw value of bulk token `i`; the table holds only its SHA-256, as for every token. */
const tokenValue = (i: number) => `poat_scale${String(i).padStart(7, '0')}`;

/** Loads the data and returns `sample` raw tokens spread over the whole table (for introspection). */
export async function loadScaleData(databaseUrl: string, sample: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const grantor = (await client.query<{ id: string }>('select id from accounts order by id limit 1')).rows[0]?.id;
    await client.query('begin');
    await client.query(
      `insert into clients (client_id, client_name, redirect_uris, allowed_scopes)
       select 'scale-client-' || i, 'Scale partner ' || i, array['https://partner' || i || '.example/callback'], array['app:read']
       from generate_series(1, $1::int) i`,
      [PARTNERS],
    );
    await client.query(
      `insert into client_secrets (id, client_id, secret_hash)
       select 'scale-secret-' || i, 'scale-client-' || i, encode(sha256(('scale-secret-' || i)::bytea), 'hex')
       from generate_series(1, $1::int) i`,
      [PARTNERS],
    );
    await client.query(`insert into apps (id, name) select 'scale-app-' || i, 'Scale app ' || i from generate_series(1, $1::int) i`, [
      APPS,
    ]);
    await client.query(
      `insert into authorizations (id, client_id, app_id, granted_by, scope)
       select 'scale-auth-' || i, 'scale-client-' || (1 + i % $2::int), 'scale-app-' || i, $3, 'app:read'
       from generate_series(1, $1::int) i`,
      [APPS, PARTNERS, grantor],
    );
    await client.query(
      `insert into access_tokens (id, token_hash, authorization_id, client_id, app_id, scope)
       select 'scale-token-' || i, encode(sha256(('poat_scale' || lpad(i::text, 7, '0'))::bytea), 'hex'),
              'scale-auth-' || (1 + i % $2::int), 'scale-client-' || (1 + (1 + i % $2::int) % $3::int), 'scale-app-' || (1 + i % $2::int), 'app:read'
       from generate_series(1, $1::int) i`,
      [TOKENS, APPS, PARTNERS],
    );
    await client.query('commit');
    await client.query('analyze');
  } finally {
    await client.end();
  }
  return Array.from({ length: sample }, (_, k) => tokenValue(1 + Math.floor((k * TOKENS) / sample)));
}
