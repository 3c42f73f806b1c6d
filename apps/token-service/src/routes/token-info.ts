// GET /v2/tokenInfo: a partner learns, with its Bearer token (RFC 6750 §2.1), what the token is connected to.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OAuthErrorResponse, TokenInfoResponse } from '@partner-oauth/contracts';
import type { Db } from '@partner-oauth/storage';
import { activeBearerToken } from '../bearer.js';
import { NO_STORE } from '../params.js';
import type { UsageRecorder } from '../usage.js';

const tokenInfoRoutes: FastifyPluginAsyncTypebox<{ db: Db; usage: UsageRecorder }> = async (app, { db, usage }) => {
  const errors = { 400: OAuthErrorResponse, 401: OAuthErrorResponse };

  app.get('/v2/tokenInfo', { schema: { response: { 200: TokenInfoResponse, ...errors } } }, async (request, reply) => {
    reply.headers(NO_STORE);
    const token = await activeBearerToken(db, request);
    usage.note(token.authorizationId);
    return {
      app: { id: token.appId, name: token.appName },
      client: { id: token.clientId, name: token.clientName },
      scope: token.scope,
      token_type: 'Bearer' as const,
      created_at: new Date(token.createdAt).toISOString(),
    };
  });
};

export default tokenInfoRoutes;
