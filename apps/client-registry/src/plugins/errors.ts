// Turns anything thrown in the admin API into AdminError JSON: typed errors as they are, validation as details,
// Fastify's own 4xx reworded so nothing of the request is echoed, 503 while the database is down, no detail on 500.
import type { AdminError } from '@partner-oauth/contracts';
import { isStoreUnavailable, type SchemaError, UNAVAILABLE_RETRY_AFTER_SECONDS, validationDetails } from '@partner-oauth/service-kit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AdminApiError } from '../admin-api-error.js';

/** Fastify's own 4xx errors whose wording we replace, so nothing of the request is echoed back. */
const FRAMEWORK_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'body: is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body: must not be empty when content-type is application/json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'content-type: must be application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body: is too large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'content-length: does not match the body',
};

function toReply(err: FastifyError | AdminApiError | Error, request: FastifyRequest): { status: number; body: AdminError } {
  if (err instanceof AdminApiError) return { status: err.status, body: err.toJSON() };
  const fe = err as FastifyError;
  if (Array.isArray(fe.validation) && fe.validation.length > 0) {
    const details = validationDetails(fe.validation as unknown as SchemaError[], fe.validationContext ?? 'request');
    const first = details[0] ?? { field: fe.validationContext ?? 'request', message: 'is invalid' };
    return { status: 400, body: { error: 'invalid_request', message: `${first.field}: ${first.message}`, details } };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // A JSON parse failure arrives as a plain SyntaxError carrying 400; its text quotes the body.
    const message =
      (fe.code && FRAMEWORK_ERRORS[fe.code]) ?? (err instanceof SyntaxError ? FRAMEWORK_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY : undefined);
    return { status, body: { error: 'invalid_request', message: message ?? 'request could not be processed' } };
  }
  if (isStoreUnavailable(err)) {
    request.log.warn({ reason: err.message }, 'store unavailable');
    return { status: 503, body: { error: 'temporarily_unavailable', message: 'the service is temporarily unavailable, retry later' } };
  }
  request.log.error({ err }, 'unhandled error');
  return { status: 500, body: { error: 'server_error', message: 'internal error' } };
}

/** One error handler and one not-found handler for the whole app; child scopes inherit them. */
export default fp(
  async function adminErrors(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toReply(err, request);
      if (err instanceof AdminApiError) reply.headers(err.headers);
      if (status === 503) reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      return reply.code(status).type('application/json; charset=utf-8').send(body);
    });
    app.setNotFoundHandler((_request: FastifyRequest, reply: FastifyReply) => {
      const body: AdminError = { error: 'not_found', message: 'route not found' };
      return reply.code(404).type('application/json; charset=utf-8').send(body);
    });
  },
  { name: 'admin-errors' },
);
