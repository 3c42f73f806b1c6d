// token-service configuration, validated once at start-up.
import { CodeConfig } from '@partner-oauth/ephemeral-store';
import { CommonConfig, loadConfig, refuseUnsafeProduction, Type } from '@partner-oauth/service-kit';
import { DEFAULT_MAX_ATTEMPTS, DEV_WEBHOOK_SIGNING_KEY, WebhookSigningConfig, webhookAllowsLoopback } from '@partner-oauth/webhooks';
import type { Static } from 'typebox';

export const TokenServiceConfig = Type.Object({
  ...CommonConfig,
  ...CodeConfig,
  ...WebhookSigningConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  /** The authorization server's issuer identifier (RFC 8414 §2); from config, never from a request. */
  ISSUER: Type.String({ format: 'uri', default: 'http://localhost:3000' }),
  /** The public base URL of this service, as partners reach it (metadata endpoints are built from it). */
  TOKEN_SERVICE_PUBLIC_URL: Type.String({ format: 'uri', default: 'http://localhost:3001' }),
  /** Whether this instance delivers removal notifications from the outbox (any number may). */
  WEBHOOK_WORKER: Type.Boolean({ default: true }),
  /** Delivery attempts before a removal notification is given up (see DEFAULT_MAX_ATTEMPTS in @partner-oauth/webhooks). */
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 40, default: DEFAULT_MAX_ATTEMPTS }),
  /** Ended rows (revoked tokens, ended authorizations, delivered or failed removal notices) are deleted this long after they ended. */
  RETENTION_SECONDS: Type.Integer({ minimum: 60, default: 30 * 86_400 }),
  /** Admin audit entries are deleted this long after they were written. */
  AUDIT_RETENTION_SECONDS: Type.Integer({ minimum: 60, default: 400 * 86_400 }),
  /** How often an instance with WEBHOOK_WORKER tries the retention sweep (one instance sweeps at a time). */
  RETENTION_SWEEP_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 300 }),
  /** Failed client authentications per client and address per minute before 429. */
  CLIENT_AUTH_FAILURES_PER_MINUTE: Type.Integer({ minimum: 1, default: 10 }),
  /** Refused codes per client per minute before 429 (codes are 256-bit: this only slows a broken or hostile client). */
  INVALID_GRANTS_PER_MINUTE: Type.Integer({ minimum: 1, default: 60 }),
});
export type TokenServiceConfig = Static<typeof TokenServiceConfig>;

export function loadTokenServiceConfig(env: Record<string, string | undefined>): TokenServiceConfig {
  const config = loadConfig(TokenServiceConfig, env);
  webhookAllowsLoopback(config);
  refuseUnsafeProduction(config, { WEBHOOK_SIGNING_KEY: DEV_WEBHOOK_SIGNING_KEY });
  return config;
}
