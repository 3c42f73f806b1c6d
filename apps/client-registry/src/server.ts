// Runs client-registry alone against DATABASE_URL.
import { requireSettings, runService } from '@partner-oauth/service-kit';
import { openDatabase } from '@partner-oauth/storage';
import { buildApp } from './app.js';
import { DEV_WEBHOOK_SIGNING_KEY_WARNING, loadClientRegistryConfig } from './config.js';

await runService(async () => {
  const config = loadClientRegistryConfig(process.env);
  const { DATABASE_URL } = requireSettings('client-registry', config, ['DATABASE_URL']);
  const db = await openDatabase({ databaseUrl: DATABASE_URL });
  const app = await buildApp({ config, db });
  if (config.usingDevWebhookSigningKey) app.log.warn(DEV_WEBHOOK_SIGNING_KEY_WARNING);
  return { app, config, resources: [db] };
});
