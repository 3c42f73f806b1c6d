// Runs Shoplifter alone on :4000, configured from the environment (WEBHOOK_SECRET: the whsec_… shown with the client;
// CLIENT_ID=shoplifter-rotating runs it as the demo partner with expiring tokens, which it refreshes before they expire).
import { buildShoplifter } from './app.js';

const env = process.env;
if (!env.WEBHOOK_SECRET) {
  console.error('WEBHOOK_SECRET: required (the webhook signing secret shown when the client was registered)');
  process.exit(1);
}
const app = await buildShoplifter(
  {
    authorizeUrl: env.AUTHORIZE_URL ?? 'http://localhost:3000/oauth/authorize',
    tokenUrl: env.TOKEN_URL ?? 'http://localhost:3001/oauth/token',
    clientId: env.CLIENT_ID ?? 'shoplifter',
    clientSecret: env.CLIENT_SECRET ?? 'secret',
    webhookSecret: env.WEBHOOK_SECRET,
  },
  { logger: true },
);
const close = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', close);
process.once('SIGINT', close);
await app.listen({ host: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 4000) });
