// Demo data of the spec's test partner (and its expiring-token twin) and three app owners. Never run in production mode.
import { hashPassword, type PasswordHashParams, sha256 } from '@partner-oauth/service-kit';
import type { Db } from './db.js';
import { createAccount, findAccountByEmail } from './repositories/accounts.js';
import { createAdminKey, findLiveAdminKey } from './repositories/admin-keys.js';
import { addAppMember, createApp, listAppsForAccount } from './repositories/apps.js';
import { createClient, findClient } from './repositories/clients.js';
import { createResourceServer, findLiveResourceServer } from './repositories/resource-servers.js';

export const DEMO = {
  client: {
    client_id: 'shoplifter',
    client_secret: 'secret',
    client_name: 'Shoplifter',
    description: 'A partnership built for testing: lists your store’s orders in your conversations.',
    client_uri: 'http://localhost:4000',
    // Shown on the consent page; the example partner serves both.
    policy_uri: 'http://localhost:4000/privacy',
    tos_uri: 'http://localhost:4000/terms',
    redirect_uris: ['http://localhost:4000/callback'],
    allowed_scopes: ['app:read', 'conversations:read', 'conversations:write', 'users:read', 'webhooks:manage'],
    default_scope: 'app:read conversations:read conversations:write',
    remove_url: 'http://localhost:4000/removed',
  },
  /**
   * The same partner with expiring tokens on (issue 14), so a person sees a token expire and be refreshed: a five-minute
   * access token (the shortest the registry allows) and a rotating refresh token. `shoplifter` stays as the spec describes.
   */
  rotatingClient: {
    client_id: 'shoplifter-rotating',
    client_secret: 'secret',
    client_name: 'Shoplifter (expiring tokens)',
    description: 'Shoplifter with expiring access tokens and rotating refresh tokens.',
    client_uri: 'http://localhost:4000',
    // Shown on the consent page; the example partner serves both.
    policy_uri: 'http://localhost:4000/privacy',
    tos_uri: 'http://localhost:4000/terms',
    redirect_uris: ['http://localhost:4000/callback'],
    allowed_scopes: ['app:read', 'conversations:read', 'conversations:write', 'users:read', 'webhooks:manage'],
    default_scope: 'app:read conversations:read conversations:write',
    remove_url: 'http://localhost:4000/removed',
    expiring_tokens: true,
    access_token_lifetime: 300,
  },
  /** The platform's own API, as a resource server allowed to introspect tokens. */
  resourceServer: { id: 'platform-api', secret: 'platform-api-secret', name: 'Platform API' },
  accounts: [
    { email: 'ada@example.com', password: 'lovelace-1815', apps: ['Acme Support', 'Acme Sales'] },
    { email: 'grace@example.com', password: 'hopper-1906', apps: ['Grace Shop'] },
    { email: 'nobody@example.com', password: 'nobody-0000', apps: [] as string[] },
  ],
} as const;

export interface SeededIds {
  accounts: Record<string, string>;
  apps: Record<string, string>;
}

/** Idempotent: what exists is kept, what is missing is created. */
export async function seedDemoData(db: Db, passwordParams?: PasswordHashParams): Promise<SeededIds> {
  const ids: SeededIds = { accounts: {}, apps: {} };
  for (const { client_secret, ...client } of [DEMO.client, DEMO.rotatingClient]) {
    if (await findClient(db, client.client_id)) continue;
    await createClient(
      db,
      { ...client, redirect_uris: [...client.redirect_uris], allowed_scopes: [...client.allowed_scopes] },
      sha256(client_secret),
    );
  }
  if (!(await findLiveResourceServer(db, DEMO.resourceServer.id))) {
    const { id, name, secret } = DEMO.resourceServer;
    await createResourceServer(db, { id, name, secretHash: sha256(secret) });
  }
  for (const account of DEMO.accounts) {
    let accountId = (await findAccountByEmail(db, account.email))?.id;
    if (!accountId) {
      accountId = await createAccount(db, { email: account.email, passwordHash: await hashPassword(account.password, passwordParams) });
      for (const name of account.apps) await addAppMember(db, await createApp(db, name), accountId, 'owner');
    }
    ids.accounts[account.email] = accountId;
    for (const app of await listAppsForAccount(db, accountId)) ids.apps[app.name] = app.id;
  }
  return ids;
}

/** Known to everyone who reads this file: the embedded default's admin key, only good enough for a laptop. */
export const DEV_ADMIN_KEY = 'poak_dev-admin-key-change-me-00000000000000000000';
export const DEV_ADMIN_KEY_NAME = 'development (embedded default)';

/**
 * Idempotent: makes DEV_ADMIN_KEY a live admin key. Kept out of seedDemoData so that only the embedded
 * development start, never a test database or `pnpm db:seed` against a shared server, has a public key.
 */
export async function seedDevAdminKey(db: Db): Promise<void> {
  const hash = sha256(DEV_ADMIN_KEY);
  if (await findLiveAdminKey(db, hash)) return;
  try {
    await createAdminKey(db, { name: DEV_ADMIN_KEY_NAME, keyHash: hash });
  } catch (err) {
    // A revoked development key keeps its hash (unique): an operator revoked it on purpose, so it stays revoked.
    if (!/duplicate key|unique/i.test(String(err))) throw err;
  }
}
