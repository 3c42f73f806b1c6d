// Whose a token is, whatever its state: RFC 7009 §2.1 refuses a revocation by another client, so it must be told apart from an unknown token.
import type { Db } from '../db.js';

/** The client an access or refresh token (by its hash) was issued to, live or not; undefined for a token never issued. */
export async function tokenClientId(db: Db, tokenHash: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('access_tokens')
    .select('client_id')
    .where('token_hash', '=', tokenHash)
    .unionAll(db.selectFrom('refresh_tokens').select('client_id').where('token_hash', '=', tokenHash))
    .executeTakeFirst();
  return row?.client_id;
}
