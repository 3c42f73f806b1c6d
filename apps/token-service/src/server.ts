// Runs token-service alone against DATABASE_URL and REDIS_URL, with graceful shutdown.
import { openEphemeralStore } from '@partner-oauth/ephemeral-store';
import { ConfigError } from '@partner-oauth/service-kit';
import { openDatabase } from '@partner-oauth/storage';
import { buildApp } from './app.js';
import { loadTokenServiceConfig } from './config.js';

try {
  const config = loadTokenServiceConfig(process.env);
  if (!config.DATABASE_URL || !config.REDIS_URL) {
    throw new ConfigError('DATABASE_URL and REDIS_URL are required to run token-service alone; `pnpm start` runs the embedded product');
  }
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL });
  const store = openEphemeralStore({ redisUrl: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX });
  const app = await buildApp({ config, db, store });
  app.addHook('onClose', async () => {
    await store.close();
    await db.destroy();
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down');
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  await app.listen({ host: config.HOST, port: config.PORT });
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
