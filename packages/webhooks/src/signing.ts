// Signing removal notifications: the deployment's signing key (its setting), each client's secret derived
// from it, and the signature header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`).
import { createHmac } from 'node:crypto';
import { Type } from 'typebox';

/** Development-only key; production refuses to start with it. */
export const DEV_WEBHOOK_SIGNING_KEY = 'dev-webhook-signing-key-not-for-production-000000';

/** The setting of every service that shows or uses per-client webhook secrets (spread into its config schema). */
export const WebhookSigningConfig = {
  WEBHOOK_SIGNING_KEY: Type.String({ minLength: 32, default: DEV_WEBHOOK_SIGNING_KEY }),
};

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
