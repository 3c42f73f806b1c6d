// The deployment's webhook signing key, shared by the services that show and use per-client secrets.
import { Type } from 'typebox';

/** Development-only key; production refuses to start with it. */
export const DEV_WEBHOOK_SIGNING_KEY = 'dev-webhook-signing-key-not-for-production-000000';

export const WebhookSigningConfig = {
  WEBHOOK_SIGNING_KEY: Type.String({ minLength: 32, default: DEV_WEBHOOK_SIGNING_KEY }),
};
