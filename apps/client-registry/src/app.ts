// Builds the client-registry Fastify app: the one factory both the server and the tests call.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { baseServerOptions, validatorCompiler } from '@partner-oauth/service-kit';
import type { Db } from '@partner-oauth/storage';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { RegistryConfig } from './config.js';
import { registerErrorHandlers } from './errors.js';
import adminAuth from './plugins/admin-auth.js';
import { clientRoutes } from './routes/clients.js';

export interface AppDeps {
  config: RegistryConfig;
  db: Db;
  /** Overrides the pino options of baseServerOptions; tests pass `false`. */
  logger?: boolean | object;
}

const Health = Type.Object({ status: Type.Literal('ok') });

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps;
  const options = baseServerOptions({ logLevel: config.LOG_LEVEL, service: 'client-registry', trustProxy: config.TRUST_PROXY });
  if (deps.logger !== undefined) options.logger = deps.logger;
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // The admin API speaks JSON only; Fastify's default text/plain parser would turn a typo'd request into a confusing 400.
  app.removeContentTypeParser('text/plain');
  registerErrorHandlers(app);

  // Liveness only: it must answer without credentials and without touching the database.
  app.get('/health/live', { schema: { response: { 200: Health } } }, async () => ({ status: 'ok' as const }));

  // Everything registered in this scope sits behind the admin token; routes outside it are public by construction.
  await app.register(async (admin) => {
    await admin.register(adminAuth, { token: config.ADMIN_TOKEN });
    await admin.register(clientRoutes, { db, webhookSigningKey: config.WEBHOOK_SIGNING_KEY });
  });

  return app;
}
