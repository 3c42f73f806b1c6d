// Signing removal notifications: the deployment's signing key (its setting), each client's secret derived
// from it, and the signature header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`); and the setting
// of where notices may go (WEBHOOK_ALLOW_LOOPBACK), read by the same services.
import { createHmac } from 'node:crypto';
import { ConfigError } from '@partner-oauth/service-kit';
import { Type } from 'typebox';

/** Development-only key; production refuses to start with it. */
export const DEV_WEBHOOK_SIGNING_KEY = 'dev-webhook-signing-key-not-for-production-000000';

/** The settings of every service that shows or uses per-client webhook secrets (spread into its config schema). */
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

/**
 * A client's webhook signing secret, derived from the deployment's signing key: nothing per-client
 * is stored, and bumping `version` rotates it. HMAC-SHA256 as a PRF (RFC 2104).
 */
export function webhookSigningSecret(signingKey: string, clientId: string, version: number): string {
  return `whsec_${createHmac('sha256', signingKey).update(`webhook-secret:${clientId}:${version}`).digest('base64url')}`;
}

/** The signature header value of a removal notification: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}
