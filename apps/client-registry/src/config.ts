// client-registry configuration: one TypeBox schema, read once at start-up.
import { CommonConfig, ConfigError, DEV_WEBHOOK_SIGNING_KEY, loadConfig, Type, WebhookSigningConfig } from '@partner-oauth/service-kit';
import type { Static } from 'typebox';

/** Known to everyone who reads this file: only good enough for a laptop. */
export const DEV_ADMIN_TOKEN = 'dev-admin-token-change-me-0000000000';

export const DEV_ADMIN_TOKEN_WARNING = `ADMIN_TOKEN is not set: the admin API accepts the development token "${DEV_ADMIN_TOKEN}". Set ADMIN_TOKEN (at least 32 characters) before exposing this service.`;

export const DEV_WEBHOOK_SIGNING_KEY_WARNING =
  'WEBHOOK_SIGNING_KEY is the development key: anyone who read the source can forge removal notifications. Set WEBHOOK_SIGNING_KEY (at least 32 characters, the same in every service) before registering real partners.';

export const RegistryConfigSchema = Type.Object({
  ...CommonConfig,
  ...WebhookSigningConfig,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3002 }),
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 32 })),
});

/** The environment as the schema reads it. */
export type RegistryEnv = Static<typeof RegistryConfigSchema>;

/** The settings the app runs with: the admin token is always resolved. */
export type RegistryConfig = RegistryEnv & {
  ADMIN_TOKEN: string;
  /** True when ADMIN_TOKEN was missing and the development token stands in; callers log a warning. */
  usingDevAdminToken?: boolean;
  /** True when WEBHOOK_SIGNING_KEY is the development key; callers log a warning. */
  usingDevWebhookSigningKey?: boolean;
};

export function loadRegistryConfig(env: Record<string, string | undefined>): RegistryConfig {
  const config = loadConfig(RegistryConfigSchema, env);
  const usingDevWebhookSigningKey = config.WEBHOOK_SIGNING_KEY === DEV_WEBHOOK_SIGNING_KEY;
  if (config.NODE_ENV === 'production') {
    // Copying a development default into a production env would hand the admin API, or the power to forge
    // notifications partners trust, to anyone who read the source.
    const problems: string[] = [];
    if (config.ADMIN_TOKEN === undefined) problems.push('ADMIN_TOKEN: is required in production (at least 32 characters)');
    else if (config.ADMIN_TOKEN === DEV_ADMIN_TOKEN) problems.push('ADMIN_TOKEN: must not be the development token in production');
    if (usingDevWebhookSigningKey)
      problems.push('WEBHOOK_SIGNING_KEY: must be set in production, to something other than the development key');
    if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  if (config.ADMIN_TOKEN === undefined)
    return { ...config, ADMIN_TOKEN: DEV_ADMIN_TOKEN, usingDevAdminToken: true, usingDevWebhookSigningKey };
  return { ...config, ADMIN_TOKEN: config.ADMIN_TOKEN, usingDevAdminToken: false, usingDevWebhookSigningKey };
}
