// A platform API as a resource server: one route protected by @partner-oauth/fastify-bearer.
import fastifyBearer from '@partner-oauth/fastify-bearer';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
await app.register(fastifyBearer, {
  introspectionUrl: `${process.env.TOKEN_SERVICE_URL}/oauth/introspect`,
  clientId: process.env.RS_ID as string,
  clientSecret: process.env.RS_SECRET as string,
});
app.get('/health/live', async () => ({ status: 'ok' }));
app.get('/v1/app', { preHandler: app.requireBearer('app:read') }, async (request) => ({ app_id: request.bearer?.appId }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
