// authorize-ui configuration, validated once at start-up; unsafe development defaults refused in production.
import { CodeConfig } from '@partner-oauth/ephemeral-store';
import { CommonConfig, loadConfig, refuseUnsafeProduction, Type } from '@partner-oauth/service-kit';
import type { Static } from 'typebox';

/** Development-only session secret; production refuses to start with it. */
export const DEV_SESSION_SECRET = 'dev-session-secret-not-for-production-0000000000';

export const AuthorizeUiConfig = Type.Object({
  ...CommonConfig,
  ...CodeConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** Issuer identifier (RFC 8414 §2, RFC 9207): the public origin of this server, from config only. */
  ISSUER: Type.String({ format: 'uri', default: 'http://localhost:3000' }),
  /** The public base URL of token-service, for the metadata document served at the issuer. */
  TOKEN_SERVICE_PUBLIC_URL: Type.String({ format: 'uri', default: 'http://localhost:3001' }),
  SESSION_SECRET: Type.String({ minLength: 32, default: DEV_SESSION_SECRET }),
  /** A session unused for this long ends. */
  SESSION_IDLE_SECONDS: Type.Integer({ minimum: 60, maximum: 86_400, default: 1800 }),
  /** A session ends this long after login, however active. */
  SESSION_ABSOLUTE_SECONDS: Type.Integer({ minimum: 300, maximum: 30 * 86_400, default: 43_200 }),
  /** Requests per minute per client address on the login form and on /oauth/authorize. */
  LOGIN_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 20 }),
  AUTHORIZE_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 600 }),
  /** Failed sign-ins per account within 15 minutes before that account is throttled. */
  LOGIN_FAILURES_PER_ACCOUNT: Type.Integer({ minimum: 1, default: 5 }),
  /** The product's name on every page ("Sign in to Smooch to continue to Shoplifter"); the demo's is Smooch. */
  PRODUCT_NAME: Type.String({ minLength: 1, maxLength: 60, default: 'Smooch' }),
  /** The product's logo beside its name: a path on this site or an https URL (the CSP allows https images). */
  PRODUCT_LOGO: Type.String({ minLength: 1, maxLength: 2048, pattern: '^(/[^/\\\\]|https://)', default: '/static/logo.svg' }),
  /** How long an app owner has to finish an authorization request. */
  AUTH_REQUEST_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 3600, default: 600 }),
});
export type AuthorizeUiConfig = Static<typeof AuthorizeUiConfig>;

export function loadAuthorizeUiConfig(env: Record<string, string | undefined>): AuthorizeUiConfig {
  const config = loadConfig(AuthorizeUiConfig, env);
  refuseUnsafeProduction(config, { SESSION_SECRET: DEV_SESSION_SECRET });
  return config;
}

/** Whether cookies must be Secure (and so may use the __Host- prefix). */
export const servedOverTls = (config: AuthorizeUiConfig): boolean => config.ISSUER.startsWith('https://');
