// GET /oauth/consent (RFC 6749 §4.1.1): the consent page for the app chosen in the picker.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConsentQuery } from '@partner-oauth/contracts';
import { type Db, findManagedApp } from '@partner-oauth/storage';
import type { AuthRequestStore } from '../auth-requests.js';
import { pendingRequestOf, renderConsent, requirePendingRequest } from '../consent-steps.js';
import { backToPartner, errorPages, PageError } from '../pages.js';

const consentRoutes: FastifyPluginAsyncTypebox<{ db: Db; requests: AuthRequestStore }> = async (app, deps) => {
  const preHandler = requirePendingRequest(app, deps, { take: false });
  app.get('/oauth/consent', { schema: { querystring: ConsentQuery }, preHandler }, async (request, reply) => {
    const { id, client, pending } = pendingRequestOf(request);
    const chosen = await findManagedApp(deps.db, request.query.app_id, pending.accountId);
    if (!chosen) throw new PageError(errorPages.notMember, { clientId: client.client_id, back: backToPartner(client) });
    return renderConsent(deps.db, request, reply, { requestId: id, pending, client, app: chosen, canChooseAnother: true });
  });
};

export default consentRoutes;
