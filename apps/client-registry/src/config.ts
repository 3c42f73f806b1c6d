// client-registry configuration: one TypeBox schema, read once at start-up.
import { CommonConfig, ConfigError, loadConfig, sharedProductionProblems, Type } from '@partner-oauth/service-kit';
import { DEV_WEBHOOK_SIGNING_KEY, WebhookSigningConfig, webhookAllowsLoopback } from '@partner-oauth/webhooks';
import type { Static } from 'typebox';

export const DEV_WEBHOOK_SIGNING_KEY_WARNING =
  'WEBHOOK_SIGNING_KEY is the development key: anyone who read the source can forge removal notifications. Set WEBHOOK_SIGNING_KEY (at least 32 characters, the same in every service) before registering real partners.';

export const RegistryConfigSchema = Type.Object({
  ...CommonConfig,
  ...WebhookSigningConfig,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3002 }),
  /** The public origin of authorize-ui: the "Add to …" button points at its /oauth/authorize and /static/ images. */
  ISSUER: Type.String({ format: 'uri', default: 'http://localhost:3000' }),
});

/** The environment as the schema reads it. */
export type RegistryEnv = Static<typeof RegistryConfigSchema>;

export type RegistryConfig = RegistryEnv & {
  /** True when WEBHOOK_SIGNING_KEY is the development key; callers log a warning. */
  usingDevWebhookSigningKey?: boolean;
};

export function loadRegistryConfig(env: Record<string, string | undefined>): RegistryConfig {
  const config = loadConfig(RegistryConfigSchema, env);
  const usingDevWebhookSigningKey = config.WEBHOOK_SIGNING_KEY === DEV_WEBHOOK_SIGNING_KEY;
  webhookAllowsLoopback(config);
  if (config.NODE_ENV === 'production') {
    // Copying a development default into a production env would hand the power to forge notifications
    // partners trust to anyone who read the source.
    const problems: string[] = [];
    if (usingDevWebhookSigningKey)
      problems.push('WEBHOOK_SIGNING_KEY: must be set in production, to something other than the development key');
    if (!config.ISSUER.startsWith('https://')) problems.push('ISSUER: must be an https URL in production');
    if (!usingDevWebhookSigningKey) problems.push(...sharedProductionProblems(config, ['WEBHOOK_SIGNING_KEY']));
    else problems.push(...sharedProductionProblems(config, []));
    if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return { ...config, usingDevWebhookSigningKey };
}
