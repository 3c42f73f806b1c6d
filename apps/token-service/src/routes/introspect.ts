// POST /oauth/introspect (RFC 7662) for the platform's own APIs, authenticated by a resource-server credential.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IntrospectionResponse, OAuthError, OAuthErrorResponse, TokenParamRequest } from '@partner-oauth/contracts';
import { safeEqual, sha256 } from '@partner-oauth/service-kit';
import { type Db, findActiveToken, findLiveResourceServer } from '@partner-oauth/storage';
import { readCredentials } from '../client-auth.js';
import { formParams, NO_STORE, required } from '../params.js';

const basicChallenge = { 'www-authenticate': 'Basic realm="introspection", charset="UTF-8"' };

/** How long a resource server's credential is trusted from memory: revoking one takes effect within this. */
const SERVER_CACHE_MS = 5_000;

const introspectRoutes: FastifyPluginAsyncTypebox<{ db: Db; issuer: string }> = async (app, { db, issuer }) => {
  // Every platform API call introspects; its credential need not cost a query each time.
  const servers = new Map<string, { hash: string | undefined; until: number }>();
  async function serverSecretHash(id: string): Promise<string | undefined> {
    const cached = servers.get(id);
    if (cached && cached.until > Date.now()) return cached.hash;
    const hash = (await findLiveResourceServer(db, id))?.secret_hash;
    if (servers.size > 1000) servers.clear();
    servers.set(id, { hash, until: Date.now() + SERVER_CACHE_MS });
    return hash;
  }

  app.post(
    '/oauth/introspect',
    { schema: { body: TokenParamRequest, response: { 200: IntrospectionResponse, 400: OAuthErrorResponse, 401: OAuthErrorResponse } } },
    async (request, reply) => {
      reply.headers(NO_STORE);
      const params = formParams(request);
      const creds = readCredentials(request.headers.authorization, params);
      const failed = () => new OAuthError('invalid_client', 'resource server authentication failed', { headers: basicChallenge });
      if (creds.method !== 'client_secret_basic') throw failed();
      // Both lookups at once; the token's state is used only once the caller is authenticated.
      const token = params.token;
      const [serverHash, active] = await Promise.all([
        serverSecretHash(creds.clientId),
        token ? findActiveToken(db, sha256(token)) : undefined,
      ]);
      // Compare even for an unknown id, so timing does not tell which ids exist.
      const matches = safeEqual(sha256(creds.clientSecret), serverHash ?? '');
      if (serverHash === undefined || !matches) throw failed();
      required(params, 'token');
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
