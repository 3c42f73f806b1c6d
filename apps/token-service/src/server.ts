// Runs token-service alone against DATABASE_URL and REDIS_URL.
import { openEphemeralStore } from '@partner-oauth/ephemeral-store';
import { requireSettings, runService } from '@partner-oauth/service-kit';
import { openDatabase } from '@partner-oauth/storage';
import { buildApp } from './app.js';
import { loadTokenServiceConfig } from './config.js';

await runService(async () => {
  const config = loadTokenServiceConfig(process.env);
  const { DATABASE_URL, REDIS_URL } = requireSettings('token-service', config, ['DATABASE_URL', 'REDIS_URL']);
  const db = await openDatabase({ databaseUrl: DATABASE_URL });
  const store = openEphemeralStore({ redisUrl: REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX });
  return { app: await buildApp({ config, db, store }), config, resources: [store, db] };
});
