// pino options shared by every service: JSON lines, secrets redacted, URLs logged without query strings.

import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';

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
  '*.token',
  '*.secret',
  '*._csrf',
];

function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}

/** Resolved here so the apps need not depend on pino-pretty themselves. */
const PRETTY_TARGET = createRequire(import.meta.url).resolve('pino-pretty');

export function loggerOptions(
  level: string,
  service: string,
  format: 'json' | 'pretty' = 'json',
): NonNullable<FastifyServerOptions['loggerInstance']> | Record<string, unknown> {
  return {
    level,
    ...(format === 'pretty'
      ? { transport: { target: PRETTY_TARGET, options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
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

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The incoming x-request-id when it looks like an id (no spaces, no control characters, bounded), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Which requests get a log line of their own (LOG_REQUESTS); see observabilityPlugin. */
export type LogRequests = 'all' | 'errors' | 'off';

/** Fastify options every service starts from. */
export function baseServerOptions(opts: {
  logLevel: string;
  service: string;
  trustProxy: boolean;
  logFormat?: 'json' | 'pretty';
  /** A test's override: false for silence, or options (a level and stream) laid over the service's, so redaction still applies. */
  logger?: boolean | Record<string, unknown> | undefined;
}): FastifyServerOptions {
  const base = loggerOptions(opts.logLevel, opts.service, opts.logFormat) as object;
  const logger = opts.logger === undefined ? base : typeof opts.logger === 'object' ? { ...base, ...opts.logger } : opts.logger;
  return {
    logger: logger as FastifyServerOptions['logger'],
    trustProxy: opts.trustProxy,
    bodyLimit: 64 * 1024,
    // The gateway's (or a calling service's) id is kept so one request reads the same in every log; a malformed one is replaced.
    requestIdHeader: false,
    // The observability plugin writes the request lines, one per request and as LOG_REQUESTS says.
    disableRequestLogging: true,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    routerOptions: { maxParamLength: 200 },
  };
}
