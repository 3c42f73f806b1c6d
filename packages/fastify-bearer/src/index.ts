// @partner-oauth/fastify-bearer: Bearer token verification for the platform's Fastify resource servers.
export type { Bearer } from './introspection.js';
export { type BearerPreHandler, default, type FastifyBearerOptions, fastifyBearer, MAX_CACHE_TTL_MS } from './plugin.js';
