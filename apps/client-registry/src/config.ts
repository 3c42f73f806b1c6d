// client-registry configuration: one TypeBox schema, read once at start-up.
import { CommonConfig, loadConfig, refuseUnsafeProduction, Type } from '@partner-oauth/service-kit';
import { DEV_WEBHOOK_SIGNING_KEY, WebhookSigningConfig, webhookAllowsLoopback } from '@partner-oauth/webhooks';
import type { Static } from 'typebox';

export const DEV_WEBHOOK_SIGNING_KEY_WARNING =
  'WEBHOOK_SIGNING_KEY is the development key: anyone who read the source can forge removal notifications. Set WEBHOOK_SIGNING_KEY (at least 32 characters, the same in every service) before registering real partners.';

export const ClientRegistryConfig = Type.Object({
  ...CommonConfig,
  ...WebhookSigningConfig,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3002 }),
  /** The public origin of authorize-ui: the "Add to …" button points at its /oauth/authorize and /static/ images. */
  ISSUER: Type.String({ format: 'uri', default: 'http://localhost:3000' }),
});

/** The environment as the schema reads it. */
export type ClientRegistryEnv = Static<typeof ClientRegistryConfig>;

export type ClientRegistryConfig = ClientRegistryEnv & {
  /** True when WEBHOOK_SIGNING_KEY is the development key; callers log a warning. */
  usingDevWebhookSigningKey?: boolean;
};

export function loadClientRegistryConfig(env: Record<string, string | undefined>): ClientRegistryConfig {
  const config = loadConfig(ClientRegistryConfig, env);
  const usingDevWebhookSigningKey = config.WEBHOOK_SIGNING_KEY === DEV_WEBHOOK_SIGNING_KEY;
  webhookAllowsLoopback(config);
  // Copying a development default into a production env would hand the power to forge notifications
  // partners trust to anyone who read the source.
  refuseUnsafeProduction(config, { WEBHOOK_SIGNING_KEY: DEV_WEBHOOK_SIGNING_KEY });
  return { ...config, usingDevWebhookSigningKey };
}
