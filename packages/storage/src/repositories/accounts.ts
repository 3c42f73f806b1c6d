// Accounts of the platform's user directory (app owners who sign in).
import type { Db } from '../db.js';
import type { AccountRow } from '../schema.js';
import { newId } from './ids.js';

export async function createAccount(db: Db, input: { email: string; passwordHash: string }): Promise<string> {
  const id = newId();
  await db.insertInto('accounts').values({ id, email: input.email.trim(), password_hash: input.passwordHash }).execute();
  return id;
}

export function findAccountByEmail(db: Db, email: string): Promise<AccountRow | undefined> {
  return db
    .selectFrom('accounts')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase()))
    .executeTakeFirst();
}

export function findAccountById(db: Db, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}
