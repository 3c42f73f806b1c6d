// pino options shared by every service: JSON lines, secrets redacted, URLs logged without query strings.

import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { type FastifyBaseLogger, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify';
import { pino } from 'pino';
import pinoPretty from 'pino-pretty';
import { parseTrustProxy } from './secrets.js';

/** Every field that can carry a secret, wherever it appears in a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.client_secret',
  '*.code',
  '*.code_verifier',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.secret',
  '*._csrf',
];

function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}

/** One line per entry, led by the service, so three services in one terminal stay readable. */
const PRETTY_OPTIONS = {
  translateTime: 'SYS:HH:MM:ss',
  ignore: 'pid,hostname,service',
  messageFormat: '{service}: {msg}',
  singleLine: true,
};

/**
 * Resolved here so the apps need not depend on pino-pretty themselves; only when pretty lines are asked for, so a
 * service bundled without node_modules beside it (scripts/bundle.mjs) starts with JSON lines.
 */
const prettyTarget = () => createRequire(import.meta.url).resolve('pino-pretty');

export function loggerOptions(
  level: string,
  service: string,
  format: 'json' | 'pretty' = 'json',
): NonNullable<FastifyServerOptions['loggerInstance']> | Record<string, unknown> {
  return {
    level,
    ...(format === 'pretty'
      ? {
          // One line per entry, led by the service, so three services in one terminal stay readable.
          transport: { target: prettyTarget(), options: PRETTY_OPTIONS },
        }
      : {}),
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req(req: FastifyRequest) {
        return { method: req.method, url: pathOnly(req.url), remoteAddress: req.ip };
      },
    },
  };
}

const { chindingsSym, serializersSym } = pino.symbols;

/**
 * Fastify's child logger for each request, without pino's redaction pass over its bindings. With wildcard redact paths
 * (`*.password`) pino runs the redactor over every binding, a string too, though no path can match inside one: most of
 * a child's cost (1.1–1.3 µs against 0.25, docs/performance.md item 34), paid by every request, logging or not. String
 * bindings without a serializer (the request id) are appended to the child's own as pino writes them; anything else
 * goes through pino.
 */
export function childLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  opts: Parameters<FastifyBaseLogger['child']>[1],
): FastifyBaseLogger {
  const values = Object.entries(bindings);
  const parent = logger as unknown as Record<symbol, unknown>;
  const serializers = (parent[serializersSym] ?? {}) as Record<string, unknown>;
  // Not pino (a test's silenced logger), or a binding pino would serialize or redaction could apply to: pino's own way.
  if (typeof parent[chindingsSym] !== 'string' || values.some(([k, v]) => typeof v !== 'string' || serializers[k] !== undefined)) {
    return logger.child(bindings, opts);
  }
  const child = logger.child({}, opts);
  const own = child as unknown as Record<symbol, string>;
  for (const [key, value] of values) own[chindingsSym] += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return child;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The incoming x-request-id when it looks like an id (no spaces, no control characters, bounded), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** A hop count as the function Fastify builds from one at run time (its types admit no number): trust the nearest `hops` proxies. */
function fastifyTrustProxy(value: boolean | number | string[]): FastifyServerOptions['trustProxy'] {
  return typeof value === 'number' ? (_address: string, hop: number) => hop < value : value;
}

/** Which requests get a log line of their own (LOG_REQUESTS); see observabilityPlugin. */
export type LogRequests = 'all' | 'errors' | 'off';

/** Fastify options every service starts from. */
export function baseServerOptions(opts: {
  logLevel: string;
  service: string;
  /** TRUST_PROXY as configured (see parseTrustProxy), or already parsed. */
  trustProxy: boolean | number | string;
  logFormat?: 'json' | 'pretty';
  /** A test's override: false for silence, or options (a level and stream) laid over the service's, so redaction still applies. */
  logger?: boolean | Record<string, unknown> | undefined;
}): FastifyServerOptions {
  const base = loggerOptions(opts.logLevel, opts.service, opts.logFormat) as object;
  const logger = opts.logger === undefined ? base : typeof opts.logger === 'object' ? { ...base, ...opts.logger } : opts.logger;
  // Pretty lines are written in this thread, in order with what the process prints itself (the start banner),
  // rather than by a transport's worker thread whenever it gets to them.
  const prettyInstance =
    opts.logFormat === 'pretty' && opts.logger === undefined
      ? pino({ ...(base as Record<string, unknown>), transport: undefined }, pinoPretty({ ...PRETTY_OPTIONS, sync: true }))
      : undefined;
  return {
    ...(prettyInstance
      ? { loggerInstance: prettyInstance as unknown as FastifyServerOptions['loggerInstance'] }
      : { logger: logger as FastifyServerOptions['logger'] }),
    trustProxy: fastifyTrustProxy(parseTrustProxy(opts.trustProxy)),
    bodyLimit: 64 * 1024,
    // The gateway's (or a calling service's) id is kept so one request reads the same in every log; a malformed one is replaced.
    requestIdHeader: false,
    // The observability plugin writes the request lines, one per request and as LOG_REQUESTS says
    // (through a log controller: the top-level disableRequestLogging is deprecated and warns on stderr).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    childLoggerFactory,
    routerOptions: { maxParamLength: 200 },
  };
}
