// The deployment's webhook signing key, shared by the services that show and use per-client secrets, and where notices may go.
import { Type } from 'typebox';
import { ConfigError } from './config.js';

/** Development-only key; production refuses to start with it. */
export const DEV_WEBHOOK_SIGNING_KEY = 'dev-webhook-signing-key-not-for-production-000000';

export const WebhookSigningConfig = {
  WEBHOOK_SIGNING_KEY: Type.String({ minLength: 32, default: DEV_WEBHOOK_SIGNING_KEY }),
  /**
   * Whether remove_url may name loopback (127.0.0.0/8, ::1, localhost), over plain http too: the example
   * partner of `pnpm start` listens on this machine. Unset: true outside production; refused in production.
   * Private, link-local and other internal ranges are refused whatever it says.
   */
  WEBHOOK_ALLOW_LOOPBACK: Type.Optional(Type.Boolean()),
};

/** WEBHOOK_ALLOW_LOOPBACK as it applies: its default by NODE_ENV, and never in production. */
export function webhookAllowsLoopback(config: { NODE_ENV: string; WEBHOOK_ALLOW_LOOPBACK?: boolean | undefined }): boolean {
  if (config.NODE_ENV === 'production') {
    if (config.WEBHOOK_ALLOW_LOOPBACK === true)
      throw new ConfigError('WEBHOOK_ALLOW_LOOPBACK: must not be set in production (it lets partners aim the servers at this machine)');
    return false;
  }
  return config.WEBHOOK_ALLOW_LOOPBACK ?? true;
}
