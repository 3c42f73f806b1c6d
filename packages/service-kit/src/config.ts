// Configuration: one TypeBox schema per app, validated once at start-up.
import { type Static, type TObject, Type } from 'typebox';
import { Value } from 'typebox/value';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Settings every service shares. */
export const CommonConfig = {
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  HOST: Type.String({ default: '127.0.0.1' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_URL: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_KEY_PREFIX: Type.String({ default: 'poauth:' }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  /**
   * Per-request log lines: `all` (one per request), `errors` (5xx only) or `off`. Every request is already in the
   * gateway's access log and in the http_request_duration_seconds metric; see docs/operations.md "Logs".
   */
  LOG_REQUESTS: Type.Union([Type.Literal('all'), Type.Literal('errors'), Type.Literal('off')], { default: 'errors' }),
  /** `pretty` prints human-readable lines through pino-pretty (development); production ships JSON lines. */
  LOG_FORMAT: Type.Union([Type.Literal('json'), Type.Literal('pretty')], { default: 'json' }),
  /** Seconds /health/ready answers 503 after SIGTERM before the listener closes (set above the probe period). */
  SHUTDOWN_DRAIN_SECONDS: Type.Integer({ minimum: 0, maximum: 120, default: 0 }),
  /** Seconds in-flight requests get to finish after draining before the process gives up and exits 1. */
  SHUTDOWN_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 300, default: 10 }),
};

/**
 * Reads `env` against `schema`: defaults filled, strings converted, unknown keys
 * ignored. Throws a ConfigError naming every bad setting.
 */
export function loadConfig<T extends TObject>(schema: T, env: Record<string, string | undefined>): Static<T> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const withDefaults = Value.Default(schema, input);
  const converted = Value.Convert(schema, withDefaults);
  const errors = Value.Errors(schema, converted);
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const name = e.instancePath.replace(/^\//, '') || String((e.params as { requiredProperties?: string[] }).requiredProperties ?? '');
      return `  ${name}: ${e.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${[...new Set(lines)].join('\n')}`);
  }
  return converted as Static<T>;
}

export { Type };
