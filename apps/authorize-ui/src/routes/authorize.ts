// GET /oauth/authorize (RFC 6749 §4.1.1): checks the authorization request, then sends the browser to sign in,
// to the app picker, or straight to consent. The steps that follow have a file each (pick-app, consent, decision).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuthorizeQuery, disallowedScopes, formatScope, isPkceValue, OAuthError, parseScope } from '@partner-oauth/contracts';
import { type ClientRow, type Db, findClientWithManagedApps, listManagedAppsAccess, type ManagedAppAccess } from '@partner-oauth/storage';
import type { AuthRequestStore, PendingRequest } from '../auth-requests.js';
import { activeClient, renderConsent, renderPickApp } from '../consent-steps.js';
import { backToPartner, errorPages, PageError } from '../pages.js';
import { loginUrl } from '../return-to.js';

export interface AuthorizeRouteDeps {
  db: Db;
  requests: AuthRequestStore;
  rateLimitPerMinute: number;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

/** RFC 6749 §3.3: the requested scope, or the client's default; every token must be allowed to the client. */
function requestedScope(client: ClientRow, raw: string | undefined): string {
  const tokens = raw === undefined || raw.trim() === '' ? parseScope(client.default_scope) : parseScope(raw);
  if (tokens === null) throw new OAuthError('invalid_scope', 'malformed scope');
  if (tokens.length === 0) throw new OAuthError('invalid_scope', 'no scope requested and the client has no default scope');
  const refused = disallowedScopes(tokens, client.allowed_scopes);
  if (refused.length > 0) throw new OAuthError('invalid_scope', `scope not allowed: ${refused.join(' ')}`);
  return formatScope(tokens);
}

/** RFC 7636 §4.3 with S256 only (RFC 9700 §2.1.1); required when the client is registered so. */
function pkceChallenge(client: ClientRow, challenge: string | undefined, method: string | undefined): string | undefined {
  if (challenge === undefined) {
    if (method !== undefined) throw new OAuthError('invalid_request', 'code_challenge_method without code_challenge');
    if (client.require_pkce) throw new OAuthError('invalid_request', 'this client must use PKCE (code_challenge with S256)');
    return undefined;
  }
  if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!isPkceValue(challenge)) throw new OAuthError('invalid_request', 'malformed code_challenge');
  return challenge;
}

/** The hosts (or, for a private-use scheme, the scheme) of the client's redirect URIs, for its developer. */
function registeredHosts(client: ClientRow): string[] {
  const hosts = client.redirect_uris.map((uri) => {
    try {
      const url = new URL(uri);
      return url.host || url.protocol;
    } catch {
      return uri;
    }
  });
  return [...new Set(hosts)];
}

const authorizeRoutes: FastifyPluginAsyncTypebox<AuthorizeRouteDeps> = async (app, { db, requests, rateLimitPerMinute }) => {
  if (!app.hasRequestDecorator('authorizationResponse')) app.decorateRequest('authorizationResponse', null);

  app.get(
    '/oauth/authorize',
    { schema: { querystring: AuthorizeQuery }, config: { rateLimit: { max: rateLimitPerMinute, timeWindow: 60_000 } } },
    async (request, reply) => {
      const query = request.query;
      // Until client and redirect URI are known good, errors stay on our page: never redirect (RFC 6749 §4.1.2.1).
      if (Array.isArray(query.client_id) || Array.isArray(query.redirect_uri)) throw new PageError(errorPages.repeatedParameter);
      // Signed in, the account's apps (with the partner's live access to each) come in the client's statement.
      const signedIn = request.session.accountId;
      let client: ClientRow | undefined;
      let accountApps: ManagedAppAccess[] | undefined;
      if (query.client_id && signedIn) {
        const found = await findClientWithManagedApps(db, query.client_id, signedIn);
        if (found?.client.status === 'active') ({ client, apps: accountApps } = found);
      } else if (query.client_id) client = await activeClient(db, query.client_id);
      if (!client) throw new PageError(errorPages.unknownClient, { clientId: query.client_id });
      const redirectUriSent = query.redirect_uri !== undefined;
      // RFC 6749 §3.1.2.3: with several registered, the request must name one.
      const redirectUri = redirectUriSent ? query.redirect_uri : client.redirect_uris.length === 1 ? client.redirect_uris[0] : undefined;
      if (redirectUri === undefined || !client.redirect_uris.includes(redirectUri)) {
        throw new PageError(errorPages.badRedirectUri, {
          clientId: client.client_id,
          redirectUri,
          registeredHosts: registeredHosts(client),
          back: backToPartner(client),
        });
      }

      // From here on, the error handler sends OAuth errors back to the partner.
      const state = single(query.state);
      request.authorizationResponse = { redirectUri, state };
      const repeated = Object.entries(query).find(([, value]) => Array.isArray(value));
      if (repeated) throw new OAuthError('invalid_request', `parameter ${repeated[0]} is repeated`);
      if (query.response_type === undefined || query.response_type === '') {
        throw new OAuthError('invalid_request', 'missing parameter response_type');
      }
      if (query.response_type !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
      const scope = requestedScope(client, single(query.scope));
      const codeChallenge = pkceChallenge(client, single(query.code_challenge), single(query.code_challenge_method));

      const accountId = request.session.accountId;
      if (!accountId) return reply.redirect(loginUrl(request.url), 302);

      const pending: PendingRequest = { clientId: client.client_id, redirectUri, redirectUriSent, state, scope, codeChallenge, accountId };
      // The account's apps, each with the partner's live access to it (the consent page of the only one shows it).
      const apps = accountId === signedIn && accountApps ? accountApps : await listManagedAppsAccess(db, accountId, client.client_id);
      if (apps.length === 0)
        return reply.view('no-app', {
          client: { name: client.client_name },
          email: request.session.email,
          csrfToken: reply.generateCsrf(),
        });
      const requestId = await requests.create(pending);
      const [only] = apps;
      if (apps.length === 1 && only) {
        const app = { id: only.id, name: only.name };
        return renderConsent(db, request, reply, { requestId, pending, client, app, canChooseAnother: false, liveSince: only.liveSince });
      }
      return renderPickApp(
        request,
        reply,
        requestId,
        client,
        apps.map((a) => ({ id: a.id, name: a.name })),
      );
    },
  );
};

export default authorizeRoutes;
