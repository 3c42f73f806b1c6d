// GET /.well-known/oauth-authorization-server (RFC 8414 §3): the document built once from configuration;
// token-service serves it too, so a gateway routing by path finds it on either service.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuthorizationServerMetadata, authorizationServerMetadata } from '@partner-oauth/contracts';

const metadataRoutes: FastifyPluginAsyncTypebox<{ issuer: string; tokenServiceUrl: string }> = async (app, opts) => {
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

export default metadataRoutes;
