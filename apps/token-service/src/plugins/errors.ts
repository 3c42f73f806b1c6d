// One serializer for errors: RFC 6749 §5.2 JSON for OAuth errors, invalid_request for malformed input, 503 while a store is down, no detail on 500.
import { OAuthError } from '@partner-oauth/contracts';
import { isStoreUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@partner-oauth/service-kit';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export default fp(
  async function errors(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError | OAuthError, request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      if (err instanceof OAuthError) {
        return reply.code(err.status).headers(err.headers).send(err.toJSON());
      }
      // Nothing was issued: the grant step either did not run or its transaction did not commit.
      if (isStoreUnavailable(err)) {
        request.log.warn({ reason: err.message }, 'store unavailable');
        return reply
          .code(503)
          .header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS))
          .send({ error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, retry later' });
      }
      const status = err.statusCode ?? 500;
      if (status < 500) {
        const description = err.validation
          ? 'malformed request'
          : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'unsupported content type'
            : 'bad request';
        return reply.code(status === 413 ? 413 : 400).send({ error: 'invalid_request', error_description: description });
      }
      request.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
    });
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not_found', error_description: 'no such endpoint' }));
  },
  { name: 'oauth-errors' },
);
