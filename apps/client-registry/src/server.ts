// Runs client-registry alone against Postgres: config, database, listen, graceful shutdown.
import { ConfigError, drainAndClose } from '@partner-oauth/service-kit';
import { openDatabase } from '@partner-oauth/storage';
import { buildApp } from './app.js';
import { DEV_WEBHOOK_SIGNING_KEY_WARNING, loadRegistryConfig, type RegistryConfig } from './config.js';

function fail(message: string): never {
  process.stderr.write(`client-registry: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: RegistryConfig;
  try {
    config = loadRegistryConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // Alone, this service needs the shared Postgres; the embedded database belongs to the all-in-one process.
  if (!config.DATABASE_URL) {
    fail('DATABASE_URL is not set. To run the whole product on an embedded database, use `pnpm start` from the repository root.');
  }

  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: process.env.DATA_DIR });
  const app = await buildApp({ config, db });
  if (config.usingDevWebhookSigningKey) app.log.warn(DEV_WEBHOOK_SIGNING_KEY_WARNING);

  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), (config.SHUTDOWN_DRAIN_SECONDS + config.SHUTDOWN_TIMEOUT_SECONDS) * 1000);
    force.unref();
    try {
      // Readiness turns 503 first so load balancers stop routing here; then in-flight requests finish before the pool goes away.
      await drainAndClose([app], config.SHUTDOWN_DRAIN_SECONDS * 1000);
      await db.destroy();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (err) {
    app.log.fatal({ err }, 'could not listen');
    await db.destroy();
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`client-registry: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
