// POST /oauth/introspect (RFC 7662) for the platform's own APIs, authenticated by a resource-server credential.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IntrospectionResponse, OAuthErrorResponse, TokenParamRequest } from '@partner-oauth/contracts';
import { OAuthError, safeEqual, sha256 } from '@partner-oauth/service-kit';
import { type Db, findActiveToken, findLiveResourceServer } from '@partner-oauth/storage';
import { readCredentials } from '../client-auth.js';
import { formParams, NO_STORE, required } from '../params.js';

const basicChallenge = { 'www-authenticate': 'Basic realm="introspection", charset="UTF-8"' };

const introspectRoutes: FastifyPluginAsyncTypebox<{ db: Db; issuer: string }> = async (app, { db, issuer }) => {
  app.post(
    '/oauth/introspect',
    { schema: { body: TokenParamRequest, response: { 200: IntrospectionResponse, 400: OAuthErrorResponse, 401: OAuthErrorResponse } } },
    async (request, reply) => {
      reply.headers(NO_STORE);
      const params = formParams(request);
      const creds = readCredentials(request.headers.authorization, params);
      const failed = () => new OAuthError('invalid_client', 'resource server authentication failed', { headers: basicChallenge });
      if (creds.method !== 'client_secret_basic') throw failed();
      const server = await findLiveResourceServer(db, creds.clientId);
      // Compare even for an unknown id, so timing does not tell which ids exist.
      const matches = safeEqual(sha256(creds.clientSecret), server?.secret_hash ?? '');
      if (!server || !matches) throw failed();
      const token = required(params, 'token');
      const active = await findActiveToken(db, sha256(token));
      if (!active) return { active: false };
      return {
        active: true,
        client_id: active.clientId,
        app_id: active.appId,
        scope: active.scope,
        sub: active.accountId,
        iat: Math.floor(new Date(active.createdAt).getTime() / 1000),
        token_type: 'Bearer' as const,
        iss: issuer,
      };
    },
  );
};

export default introspectRoutes;
