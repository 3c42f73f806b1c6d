// Configuration: one TypeBox schema per app, validated once at start-up.
import { type Static, type TObject, Type } from 'typebox';
import { Value } from 'typebox/value';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A TRUST_PROXY value as the schema accepts it: true/false, a hop count, or a comma-separated list of addresses or CIDR ranges. */
export const TRUST_PROXY_PATTERN = '^(true|false|[0-9]{1,2}|[0-9A-Fa-f:.]+(/[0-9]{1,3})?(\\s*,\\s*[0-9A-Fa-f:.]+(/[0-9]{1,3})?)*)$';

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
  /** Which proxies' X-Forwarded-* to believe: false, a hop count (1 behind one gateway), or their addresses; see parseTrustProxy. */
  TRUST_PROXY: Type.String({ pattern: TRUST_PROXY_PATTERN, default: 'false' }),
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
  const urlProblems = Object.keys(schema.properties).flatMap((name) => {
    const value = (converted as Record<string, unknown>)[name];
    const problem = isUrlSetting(name) && typeof value === 'string' ? urlProblem(name, value) : undefined;
    return problem ? [`  ${name}: ${problem}`] : [];
  });
  if (urlProblems.length > 0) throw new ConfigError(`invalid configuration:\n${urlProblems.join('\n')}`);
  return converted as Static<T>;
}

/** The schemes each URL setting accepts; every other `*_URL` setting and ISSUER are web URLs. */
const URL_SCHEMES: Record<string, string[]> = {
  DATABASE_URL: ['postgres:', 'postgresql:'],
  REDIS_URL: ['redis:', 'rediss:', 'redis-sentinel:'],
};
const WEB_SCHEMES = ['http:', 'https:'];

function isUrlSetting(name: string): boolean {
  return name.endsWith('_URL') || name === 'ISSUER';
}

/**
 * What is wrong with a URL setting, or undefined. Parsed here, at start, because pg and ioredis accept a
 * mistyped URL and then retry against the wrong place forever. The value is never quoted: it may carry a password.
 */
export function urlProblem(name: string, value: string): string | undefined {
  const schemes = URL_SCHEMES[name] ?? WEB_SCHEMES;
  const expected = `must start with ${schemes.map((s) => `${s}//`).join(' or ')}`;
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(value)?.[0].toLowerCase();
  // Without a scheme (`postgres//host`, `host:5432`) there is nothing to parse against.
  if (!scheme || !value.slice(scheme.length).startsWith('//')) return `not a URL (${expected})`;
  if (!schemes.includes(scheme)) return expected;
  if (scheme === 'redis-sentinel:') {
    // host:port[,host:port…]/<master name>; WHATWG URL cannot parse the host list.
    const match = /^redis-sentinel:\/\/(?:[^@/]*@)?([^/]+)\/[^/?#]+$/i.exec(value);
    if (!match) return 'not a URL (redis-sentinel://[:password@]host:port[,host:port…]/<master name>)';
    const badPort = (match[1] as string).split(',').some((hostPort) => !/^[^:]+(:\d{1,5})?$/.test(hostPort));
    return badPort ? 'not a URL (each sentinel is host or host:port, the port a number)' : undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL (check the port is a number and special characters in the password are percent-encoded)';
  }
  // postgres:///db?host=/run/postgresql names a Unix socket; every other URL needs a host.
  if (!url.hostname && !scheme.startsWith('postgres')) return 'not a URL (no host)';
  return undefined;
}

export { Type };
