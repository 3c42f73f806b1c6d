// Runs token-service alone against DATABASE_URL and REDIS_URL.
import { openEphemeralStore } from '@partner-oauth/ephemeral-store';
import { ConfigError, runService } from '@partner-oauth/service-kit';
import { openDatabase } from '@partner-oauth/storage';
import { buildApp } from './app.js';
import { loadTokenServiceConfig } from './config.js';

await runService(async () => {
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
  return {
    app,
    host: config.HOST,
    port: config.PORT,
    drainMs: config.SHUTDOWN_DRAIN_SECONDS * 1000,
    closeTimeoutMs: config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  };
});
