// token-service configuration, validated once at start-up.
import { CommonConfig, loadConfig, Type } from '@partner-oauth/service-kit';
import type { Static } from 'typebox';

export const TokenServiceConfig = Type.Object({
  ...CommonConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  /** The authorization server's issuer identifier (RFC 8414 §2); from config, never from a request. */
  ISSUER: Type.String({ format: 'uri', default: 'http://localhost:3000' }),
  CODE_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 600, default: 300 }),
});
export type TokenServiceConfig = Static<typeof TokenServiceConfig>;

export function loadTokenServiceConfig(env: Record<string, string | undefined>): TokenServiceConfig {
  return loadConfig(TokenServiceConfig, env);
}
