// client-registry configuration: one TypeBox schema, read once at start-up.
import { CommonConfig, ConfigError, loadConfig, Type } from '@partner-oauth/service-kit';
import type { Static } from 'typebox';

/** Known to everyone who reads this file: only good enough for a laptop. */
export const DEV_ADMIN_TOKEN = 'dev-admin-token-change-me-0000000000';

export const DEV_ADMIN_TOKEN_WARNING = `ADMIN_TOKEN is not set: the admin API accepts the development token "${DEV_ADMIN_TOKEN}". Set ADMIN_TOKEN (at least 32 characters) before exposing this service.`;

export const RegistryConfigSchema = Type.Object({
  ...CommonConfig,
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
};

export function loadRegistryConfig(env: Record<string, string | undefined>): RegistryConfig {
  const config = loadConfig(RegistryConfigSchema, env);
  const production = config.NODE_ENV === 'production';
  if (config.ADMIN_TOKEN === undefined) {
    if (production) throw new ConfigError('invalid configuration:\n  ADMIN_TOKEN: is required in production (at least 32 characters)');
    return { ...config, ADMIN_TOKEN: DEV_ADMIN_TOKEN, usingDevAdminToken: true };
  }
  // Copying the development default into a production env would leave the API open to anyone who read the source.
  if (production && config.ADMIN_TOKEN === DEV_ADMIN_TOKEN) {
    throw new ConfigError('invalid configuration:\n  ADMIN_TOKEN: must not be the development token in production');
  }
  return { ...config, ADMIN_TOKEN: config.ADMIN_TOKEN, usingDevAdminToken: false };
}
