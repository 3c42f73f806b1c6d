// DELETE /oauth/authorization, the spec's "Revoke Access": with its Bearer token a partner gives the access back;
// every token of this partner for this app, from any consent, stops working.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EmptyObject, OAuthErrorResponse } from '@partner-oauth/contracts';
import type { Clock } from '@partner-oauth/service-kit';
import { type ActiveTokenReader, type Db, endAuthorizations } from '@partner-oauth/storage';
import { activeBearerToken } from '../bearer.js';
import { NO_STORE } from '../params.js';

const authorizationRoutes: FastifyPluginAsyncTypebox<{ db: Db; tokens: ActiveTokenReader; clock: Clock }> = async (
  app,
  { db, tokens, clock },
) => {
  const errors = { 400: OAuthErrorResponse, 401: OAuthErrorResponse };

  app.delete('/oauth/authorization', { schema: { response: { 200: EmptyObject, ...errors } } }, async (request, reply) => {
    reply.headers(NO_STORE);
    const token = await activeBearerToken(tokens, request, new Date(clock.now()));
    await endAuthorizations(db, { clientId: token.clientId, appId: token.appId }, 'partner_revoked', request.id);
    app.serviceMetrics.tokensRevoked.inc({ by: 'partner' });
    request.log.info(
      { event: 'authorization.revoked', clientId: token.clientId, appId: token.appId, by: 'partner' },
      'authorization revoked',
    );
    return {};
  });
};

export default authorizationRoutes;
