// POST /oauth/introspect (RFC 7662) for the platform's own APIs, authenticated by a resource-server credential.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IntrospectionResponse, OAuthError, OAuthErrorResponse, TokenParamRequest } from '@partner-oauth/contracts';
import { type Clock, digestEqual, sha256 } from '@partner-oauth/service-kit';
import { type Db, findLiveResourceServer, type TokenStateReader } from '@partner-oauth/storage';
import { readCredentials } from '../client-auth.js';
import { formParams, NO_STORE, required } from '../params.js';
import type { UsageRecorder } from '../usage.js';

const basicChallenge = { 'www-authenticate': 'Basic realm="introspection", charset="UTF-8"' };

/** What an unknown id's secret is compared with: a SHA-256's length, and no secret's hash. */
const NO_SECRET_HASH = '0'.repeat(64);

/** How long a resource server's credential is trusted from memory: revoking one takes effect within this. */
const SERVER_CACHE_MS = 5_000;

interface IntrospectDeps {
  db: Db;
  /** Token lookups, batched across concurrent calls, without the names (storage's TokenStateReader). */
  tokens: Pick<TokenStateReader, 'find'>;
  issuer: string;
  clock: Clock;
  usage: UsageRecorder;
}

const introspectRoutes: FastifyPluginAsyncTypebox<IntrospectDeps> = async (app, { db, tokens, issuer, clock, usage }) => {
  // Every platform API call introspects; its credential need not cost a query each time.
  const servers = new Map<string, { hashes: string[]; until: number }>();
  /** The secret hashes that authenticate `id` (two during a rotation's overlap); none for an unknown or revoked id. */
  async function serverSecretHashes(id: string): Promise<string[]> {
    const cached = servers.get(id);
    if (cached && cached.until > Date.now()) return cached.hashes;
    const hashes = (await findLiveResourceServer(db, id))?.hashes ?? [];
    if (servers.size > 1000) servers.clear();
    servers.set(id, { hashes, until: Date.now() + SERVER_CACHE_MS });
    return hashes;
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
      const [serverHashes, active] = await Promise.all([
        serverSecretHashes(creds.clientId),
        token ? tokens.find(sha256(token), new Date(clock.now())) : undefined,
      ]);
      // Compare even for an unknown id (against a hash no secret has), so timing does not tell which ids exist.
      const presented = sha256(creds.clientSecret);
      let matches = digestEqual(presented, serverHashes[0] ?? NO_SECRET_HASH);
      for (const hash of serverHashes.slice(1)) matches = digestEqual(presented, hash) || matches;
      if (serverHashes.length === 0 || !matches) throw failed();
      required(params, 'token');
      if (!active) return { active: false };
      usage.note(active.authorizationId);
      return {
        active: true,
        client_id: active.clientId,
        app_id: active.appId,
        scope: active.scope,
        sub: active.accountId,
        iat: Math.floor(new Date(active.createdAt).getTime() / 1000),
        // RFC 7662 §2.2; after it the token answers active:false (the lookup above compares it with the clock).
        ...(active.expiresAt === null ? {} : { exp: Math.floor(new Date(active.expiresAt).getTime() / 1000) }),
        token_type: 'Bearer' as const,
        iss: issuer,
      };
    },
  );
};

export default introspectRoutes;
