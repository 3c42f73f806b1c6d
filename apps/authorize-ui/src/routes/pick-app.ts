// GET /oauth/pick-app: the app picker again, for the same pending request ("Choose another app" on consent).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PickAppQuery } from '@partner-oauth/contracts';
import { type Db, listManagedApps } from '@partner-oauth/storage';
import type { AuthRequestStore } from '../auth-requests.js';
import { pendingRequestOf, renderPickApp, requirePendingRequest } from '../consent-steps.js';

const pickAppRoutes: FastifyPluginAsyncTypebox<{ db: Db; requests: AuthRequestStore }> = async (app, deps) => {
  const preHandler = requirePendingRequest(app, deps, { take: false });
  app.get('/oauth/pick-app', { schema: { querystring: PickAppQuery }, preHandler }, async (request, reply) => {
    const { id, client, pending } = pendingRequestOf(request);
    return renderPickApp(request, reply, id, client, await listManagedApps(deps.db, pending.accountId));
  });
};

export default pickAppRoutes;
