// What a partner does with its Bearer token: learn what it is connected to, and give the access back.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EmptyObject, OAuthErrorResponse, TokenInfoResponse } from '@partner-oauth/contracts';
import { sha256 } from '@partner-oauth/service-kit';
import { type ActiveToken, type Db, endAuthorizations, findActiveToken } from '@partner-oauth/storage';
import type { FastifyRequest } from 'fastify';
import { bearerToken, invalidToken } from '../bearer.js';
import { NO_STORE } from '../params.js';

const partnerRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  async function authenticate(request: FastifyRequest): Promise<ActiveToken> {
    const active = await findActiveToken(db, sha256(bearerToken(request.headers.authorization)));
    if (!active) throw invalidToken();
    return active;
  }

  const errors = { 400: OAuthErrorResponse, 401: OAuthErrorResponse };

  app.get('/v2/tokenInfo', { schema: { response: { 200: TokenInfoResponse, ...errors } } }, async (request, reply) => {
    reply.headers(NO_STORE);
    const token = await authenticate(request);
    return {
      app: { id: token.appId, name: token.appName },
      client: { id: token.clientId, name: token.clientName },
      scope: token.scope,
      token_type: 'Bearer' as const,
      created_at: new Date(token.createdAt).toISOString(),
    };
  });

  // The spec's "Revoke Access": every token of this partner for this app, from any consent, stops working.
  app.delete('/oauth/authorization', { schema: { response: { 200: EmptyObject, ...errors } } }, async (request, reply) => {
    reply.headers(NO_STORE);
    const token = await authenticate(request);
    await endAuthorizations(db, { clientId: token.clientId, appId: token.appId }, 'partner_revoked', request.id);
    app.serviceMetrics.tokensRevoked.inc({ by: 'partner' });
    request.log.info(
      { event: 'authorization.revoked', clientId: token.clientId, appId: token.appId, by: 'partner' },
      'authorization revoked',
    );
    return {};
  });
};

export default partnerRoutes;
