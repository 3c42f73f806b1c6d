// POST /oauth/revoke (RFC 7009): a partner gives a token (access or refresh) back; unknown tokens answer 200, another client's token unauthorized_client (§2.1).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EmptyObject, OAuthError, OAuthErrorResponse, TokenParamRequest } from '@partner-oauth/contracts';
import type { FailureThrottle } from '@partner-oauth/ephemeral-store';
import { type Clock, sha256 } from '@partner-oauth/service-kit';
import { type Db, revokeClientRefreshToken, revokeClientToken, tokenClientId } from '@partner-oauth/storage';
import { authenticateThrottled, readCredentials } from '../client-auth.js';
import { formParams, NO_STORE, required } from '../params.js';
import { REFRESH_TOKEN_PREFIX } from './token.js';

const revokeRoutes: FastifyPluginAsyncTypebox<{ db: Db; clock: Clock; throttles: { clientAuth: FailureThrottle } }> = async (
  app,
  { db, clock, throttles },
) => {
  app.post(
    '/oauth/revoke',
    {
      schema: {
        body: TokenParamRequest,
        response: { 200: EmptyObject, 400: OAuthErrorResponse, 401: OAuthErrorResponse, 429: OAuthErrorResponse },
      },
    },
    async (request, reply) => {
      reply.headers(NO_STORE);
      const params = formParams(request);
      const creds = readCredentials(request.headers.authorization, params);
      const { clientId } = await authenticateThrottled(db, creds, new Date(clock.now()), throttles.clientAuth, request.ip);
      const token = required(params, 'token');
      // token_type_hint is only a hint (§2.1): the prefix says which kind it is. A refresh token ends its family (§2.1:
      // the access tokens of the same grant with it), through the removal path, so the partner is notified.
      const tokenHash = sha256(token);
      const revoked = token.startsWith(REFRESH_TOKEN_PREFIX)
        ? await revokeClientRefreshToken(db, tokenHash, clientId, request.id)
        : await revokeClientToken(db, tokenHash, clientId, request.id);
      // §2.1: a token issued to another client is refused and the caller told so; that token stays as it was.
      if (!revoked) {
        const owner = await tokenClientId(db, tokenHash);
        if (owner !== undefined && owner !== clientId)
          throw new OAuthError('unauthorized_client', 'the token was not issued to this client');
      }
      if (revoked) app.serviceMetrics.tokensRevoked.inc({ by: 'client' });
      if (revoked) request.log.info({ event: 'token.revoked', clientId }, 'token revoked by its client');
      return {};
    },
  );
};

export default revokeRoutes;
