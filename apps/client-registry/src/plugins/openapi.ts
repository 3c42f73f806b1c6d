// The OpenAPI 3.1 document, generated from the route schemas of packages/contracts: /openapi.json, and a UI at /docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function openapi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Partner OAuth client registry',
        version: '1',
        description: 'The admin API through which platform staff register and run partner OAuth clients.',
      },
      components: {
        securitySchemes: { adminKey: { type: 'http', scheme: 'bearer', description: 'An admin API key (pnpm cli admin-keys create)' } },
      },
      security: [{ adminKey: [] }],
    },
  });
  // Public by design: the document describes the API, it grants nothing. The UI's assets are served locally (no CDN).
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

export default fp(openapi, { name: 'openapi', fastify: '5.x' });
