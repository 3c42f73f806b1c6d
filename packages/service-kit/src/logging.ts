// pino options shared by every service: JSON lines, secrets redacted, URLs logged without query strings.

import { randomUUID } from 'node:crypto';
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

export function loggerOptions(
  level: string,
  service: string,
): NonNullable<FastifyServerOptions['loggerInstance']> | Record<string, unknown> {
  return {
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req(req: FastifyRequest) {
        return { method: req.method, url: pathOnly(req.url), remoteAddress: req.ip };
      },
    },
  };
}

/** Fastify options every service starts from. */
export function baseServerOptions(opts: { logLevel: string; service: string; trustProxy: boolean }): FastifyServerOptions {
  return {
    logger: loggerOptions(opts.logLevel, opts.service) as FastifyServerOptions['logger'],
    trustProxy: opts.trustProxy,
    bodyLimit: 64 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: 200 },
  };
}
