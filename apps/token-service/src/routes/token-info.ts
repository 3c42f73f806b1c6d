// GET /v2/tokenInfo: a partner learns, with its Bearer token (RFC 6750 §2.1), what the token is connected to.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OAuthErrorResponse, TokenInfoResponse } from '@partner-oauth/contracts';
import type { Clock } from '@partner-oauth/service-kit';
import type { ActiveTokenReader } from '@partner-oauth/storage';
import { activeBearerToken } from '../bearer.js';
import { NO_STORE } from '../params.js';
import type { UsageRecorder } from '../usage.js';

const tokenInfoRoutes: FastifyPluginAsyncTypebox<{ tokens: ActiveTokenReader; clock: Clock; usage: UsageRecorder }> = async (
  app,
  { tokens, clock, usage },
) => {
  const errors = { 400: OAuthErrorResponse, 401: OAuthErrorResponse };

  app.get('/v2/tokenInfo', { schema: { response: { 200: TokenInfoResponse, ...errors } } }, async (request, reply) => {
    reply.headers(NO_STORE);
    const token = await activeBearerToken(tokens, request, new Date(clock.now()));
    usage.note(token.authorizationId);
    return {
      app: { id: token.appId, name: token.appName },
      client: { id: token.clientId, name: token.clientName },
      scope: token.scope,
      token_type: 'Bearer' as const,
      created_at: new Date(token.createdAt).toISOString(),
      // Only an expiring token says when it expires: the spec's token answers as it always has.
      ...(token.expiresAt === null ? {} : { expires_at: new Date(token.expiresAt).toISOString() }),
    };
  });
};

export default tokenInfoRoutes;
