// GET /.well-known/oauth-authorization-server (RFC 8414 §3), built once from configuration; served by
// authorize-ui (the issuer's origin) and token-service alike, so any gateway routing finds it.

import { AuthorizationServerMetadata, authorizationServerMetadata } from '@partner-oauth/contracts';
import type { FastifyPluginAsync } from 'fastify';

export const metadataRoutes: FastifyPluginAsync<{ issuer: string; tokenServiceUrl: string }> = async (app, opts) => {
  const document = authorizationServerMetadata(opts);
  app.get(
    '/.well-known/oauth-authorization-server',
    { schema: { response: { 200: AuthorizationServerMetadata } } },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=3600');
      return document;
    },
  );
};
