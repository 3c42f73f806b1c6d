// `pnpm start`: the whole product in one process. Embedded default: PGlite under DATA_DIR and an
// in-process store, migrated and seeded with the demo data at start; no external servers needed.
import { buildApp as buildAuthorizeUi, DEV_SESSION_SECRET, loadAuthorizeUiConfig } from '@partner-oauth/authorize-ui';
import { buildApp as buildClientRegistry, DEV_WEBHOOK_SIGNING_KEY_WARNING, loadClientRegistryConfig } from '@partner-oauth/client-registry';
import { openEphemeralStore } from '@partner-oauth/ephemeral-store';
import { buildShoplifter } from '@partner-oauth/example-shoplifter';
import { ConfigError, drainAndClose } from '@partner-oauth/service-kit';
import {
  DEV_ADMIN_KEY,
  embeddedDataDir,
  migrateToLatest,
  openDatabase,
  seedDemoData,
  seedDevAdminKey,
  webhookSecretVersions,
} from '@partner-oauth/storage';
import { buildApp as buildTokenService, loadTokenServiceConfig } from '@partner-oauth/token-service';
import { webhookSigningSecret } from '@partner-oauth/webhooks';
import type { FastifyInstance } from 'fastify';
import { devBanner } from './banner.js';

const env = process.env;
// Readable lines by default in development (the one who reads them is at the terminal); JSON in production.
const logFormat = env.LOG_FORMAT || (env.NODE_ENV === 'production' ? 'json' : 'pretty');
const withPort = (name: string, fallback: string) => ({ ...env, LOG_FORMAT: logFormat, PORT: env[name] ?? fallback });

async function main(): Promise<void> {
  const started = performance.now();
  const uiConfig = loadAuthorizeUiConfig(withPort('AUTHORIZE_UI_PORT', '3000'));
  const tokenConfig = loadTokenServiceConfig(withPort('TOKEN_SERVICE_PORT', '3001'));
  const registryConfig = loadClientRegistryConfig(withPort('CLIENT_REGISTRY_PORT', '3002'));
  const production = uiConfig.NODE_ENV === 'production';
  if (production && !uiConfig.DATABASE_URL)
    throw new ConfigError('DATABASE_URL: required in production (the embedded database is for development)');

  const db = await openDatabase({ databaseUrl: uiConfig.DATABASE_URL, dataDir: embeddedDataDir(env.DATA_DIR) });
  const store = openEphemeralStore({ redisUrl: uiConfig.REDIS_URL, keyPrefix: uiConfig.REDIS_KEY_PREFIX });
  await migrateToLatest(db);
  if (!production) {
    await seedDemoData(db);
    // Production starts with no admin key at all: the first one is made with `pnpm cli admin-keys create`.
    await seedDevAdminKey(db);
  }

  const apps: [string, FastifyInstance, number][] = [
    ['authorize-ui', await buildAuthorizeUi({ config: uiConfig, db, store }), uiConfig.PORT],
    ['token-service', await buildTokenService({ config: tokenConfig, db, store }), tokenConfig.PORT],
    ['client-registry', await buildClientRegistry({ config: registryConfig, db }), registryConfig.PORT],
  ];
  // The demo partner of the README, beside the product in development only (SHOPLIFTER_PORT=0 turns it off);
  // SHOPLIFTER_CLIENT_ID=shoplifter-rotating runs it as the demo partner with expiring tokens.
  const shoplifterPort = Number(env.SHOPLIFTER_PORT ?? 4000);
  if (!production && shoplifterPort > 0) {
    const tokenBase = `http://127.0.0.1:${tokenConfig.PORT}`;
    const clientId = env.SHOPLIFTER_CLIENT_ID === 'shoplifter-rotating' ? 'shoplifter-rotating' : 'shoplifter';
    const shoplifter = await buildShoplifter({
      authorizeUrl: `${uiConfig.ISSUER}/oauth/authorize`,
      tokenUrl: `${tokenBase}/oauth/token`,
      clientId,
      clientSecret: 'secret',
      // What the registry showed with the demo client: the secret its removal notices are signed with.
      webhookSecret: webhookSigningSecret(
        tokenConfig.WEBHOOK_SIGNING_KEY,
        clientId,
        (await webhookSecretVersions(db, clientId, new Date()))?.secret_version ?? 1,
      ),
    });
    apps.push(['shoplifter (example partner)', shoplifter, shoplifterPort]);
  }
  for (const [, app, port] of apps) await app.listen({ host: uiConfig.HOST, port });

  const log = apps[0]?.[1].log;
  const where = uiConfig.DATABASE_URL ? 'Postgres at DATABASE_URL' : `embedded PGlite in ${embeddedDataDir(env.DATA_DIR)}`;
  const codes = uiConfig.REDIS_URL ? 'in Redis' : 'in-process';
  const ms = Math.round(performance.now() - started);
  const devSecrets: string[] = [];
  if (uiConfig.SESSION_SECRET === DEV_SESSION_SECRET)
    devSecrets.push('SESSION_SECRET is the development value: set SESSION_SECRET outside development');
  if (registryConfig.usingDevWebhookSigningKey) devSecrets.push(DEV_WEBHOOK_SIGNING_KEY_WARNING);
  if (!production)
    devSecrets.push(
      `the admin API accepts the development admin key "${DEV_ADMIN_KEY}": create your own with \`pnpm cli admin-keys create --name <you>\` and revoke this one before exposing the service`,
    );
  const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;
  if (!production && uiConfig.LOG_FORMAT === 'pretty') {
    // Development at a terminal: one banner instead of log lines to dig the links out of.
    const [ui, token, registry, partner] = apps.map(([, app]) => portOf(app));
    process.stdout.write(
      devBanner({
        host: uiConfig.HOST,
        ports: { authorizeUi: ui as number, tokenService: token as number, clientRegistry: registry as number, shoplifter: partner },
        storage: where,
        codes,
        startedMs: ms,
        adminKey: DEV_ADMIN_KEY,
        devSecrets,
      }),
    );
  } else {
    for (const warning of devSecrets) log?.warn(warning);
    const addresses = apps.map(([name, app]) => `${name} http://${uiConfig.HOST}:${portOf(app)}`);
    log?.info({ ms, storage: where, codes }, `ready: ${addresses.join(', ')}`);
    if (!production) {
      log?.info(
        `try it: open http://localhost:${env.SHOPLIFTER_PORT ?? 4000}/ (Shoplifter, the example partner), click "Add to Smooch" and sign in as ada@example.com / lovelace-1815`,
      );
    }
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log?.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), (uiConfig.SHUTDOWN_DRAIN_SECONDS + uiConfig.SHUTDOWN_TIMEOUT_SECONDS) * 1000);
    force.unref();
    drainAndClose(
      apps.map(([, app]) => app),
      uiConfig.SHUTDOWN_DRAIN_SECONDS * 1000,
    )
      .then(() => store.close())
      .then(() => db.destroy())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
