// GET /oauth/authorize (RFC 6749 §4.1.1) and the consent steps that follow it: app picker, consent, decision.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AuthorizeQuery,
  ConsentQuery,
  DecisionForm,
  disallowedScopes,
  formatScope,
  isPkceValue,
  isScopeName,
  PickAppQuery,
  parseScope,
  SCOPES,
} from '@partner-oauth/contracts';
import type { CodeStore } from '@partner-oauth/ephemeral-store';
import {
  type ClientRow,
  codeBinding,
  type Db,
  findClient,
  findLiveAuthorization,
  findManagedApp,
  listManagedApps,
} from '@partner-oauth/storage';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type AuthRequestStore, authorizationResponseUrl, type PendingRequest } from '../auth-requests.js';
import { formatDate } from '../i18n/index.js';
import { errorPages, sendErrorPage } from '../pages.js';
import { cspAllowingFormTarget, formTargetSource } from '../plugins/browser.js';

export interface AuthorizeRouteDeps {
  db: Db;
  codes: CodeStore;
  requests: AuthRequestStore;
  issuer: string;
  rateLimitPerMinute: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once client and redirect URI are validated: from then on errors go back to the partner. */
    authorizationResponse: { redirectUri: string; state: string | undefined } | null;
  }
}

const SwitchAccountForm = Type.Object({
  _csrf: Type.Optional(Type.String({ maxLength: 256 })),
  request_id: Type.String({ minLength: 1, maxLength: 128 }),
});

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

function describeRedirect(uri: string): string {
  try {
    return new URL(uri).host || uri;
  } catch {
    return uri;
  }
}

/** The client, if it exists and may start or finish a flow (a disabled client may not). */
async function activeClient(db: Db, clientId: string): Promise<ClientRow | undefined> {
  const client = await findClient(db, clientId);
  return client?.status === 'active' ? client : undefined;
}

/** RFC 6749 §3.3: the requested scope, or the client's default; every token must be allowed to the client. */
function requestedScope(client: ClientRow, raw: string | undefined): { value: string } | { error: string } {
  const tokens = raw === undefined || raw.trim() === '' ? parseScope(client.default_scope) : parseScope(raw);
  if (tokens === null) return { error: 'malformed scope' };
  if (tokens.length === 0) return { error: 'no scope requested and the client has no default scope' };
  const refused = disallowedScopes(tokens, client.allowed_scopes);
  if (refused.length > 0) return { error: `scope not allowed: ${refused.join(' ')}` };
  return { value: formatScope(tokens) };
}

/** RFC 7636 §4.3 with S256 only (RFC 9700 §2.1.1); required when the client is registered so. */
function pkceChallenge(
  client: ClientRow,
  challenge: string | undefined,
  method: string | undefined,
): { value: string | undefined } | { error: string } {
  if (challenge === undefined) {
    if (method !== undefined) return { error: 'code_challenge_method without code_challenge' };
    return client.require_pkce ? { error: 'this client must use PKCE (code_challenge with S256)' } : { value: undefined };
  }
  if (method !== 'S256') return { error: 'code_challenge_method must be S256' };
  if (!isPkceValue(challenge)) return { error: 'malformed code_challenge' };
  return { value: challenge };
}

/** A partner's website, shown as a link only when it is a plain web address (never javascript: or data:). */
function website(uri: string | null): { href: string; label: string } | undefined {
  if (!uri) return undefined;
  try {
    const url = new URL(uri);
    return url.protocol === 'https:' || url.protocol === 'http:' ? { href: url.href, label: url.host } : undefined;
  } catch {
    return undefined;
  }
}

export function scopeDescriptions(scope: string): { name: string; description: string }[] {
  return scope
    .split(' ')
    .filter(isScopeName)
    .map((name) => ({ name, description: SCOPES[name] }));
}

const authorizeRoutes: FastifyPluginAsyncTypebox<AuthorizeRouteDeps> = async (app, deps) => {
  const { db, codes, requests, issuer } = deps;
  app.decorateRequest('authorizationResponse', null);

  /** RFC 9207: every authorization response names the issuer. */
  const respond = (reply: FastifyReply, status: 302 | 303, redirectUri: string, params: Record<string, string | undefined>) =>
    reply.redirect(authorizationResponseUrl(redirectUri, { ...params, iss: issuer }), status);

  async function renderConsent(
    request: FastifyRequest,
    reply: FastifyReply,
    requestId: string,
    pending: PendingRequest,
    client: ClientRow,
    app: { id: string; name: string },
    canChooseAnother: boolean,
  ) {
    const site = website(client.client_uri);
    reply.header('content-security-policy', cspAllowingFormTarget(formTargetSource(pending.redirectUri)));
    const live = await findLiveAuthorization(db, client.client_id, app.id);
    return reply.view('consent', {
      client: {
        name: client.client_name,
        description: client.description,
        website: site?.href,
        websiteLabel: site?.label,
        logo: client.logo_uri,
      },
      app,
      already: live ? { since: formatDate(reply.locals.locale, live.since) } : null,
      requestId,
      redirectHost: describeRedirect(pending.redirectUri),
      scopes: scopeDescriptions(pending.scope),
      email: request.session.email,
      canChooseAnother,
      csrfToken: reply.generateCsrf(),
    });
  }

  app.get(
    '/oauth/authorize',
    { schema: { querystring: AuthorizeQuery }, config: { rateLimit: { max: deps.rateLimitPerMinute, timeWindow: 60_000 } } },
    async (request, reply) => {
      const query = request.query;
      // Until client and redirect URI are known good, errors stay on our page: never redirect (RFC 6749 §4.1.2.1).
      if (Array.isArray(query.client_id) || Array.isArray(query.redirect_uri)) return sendErrorPage(reply, errorPages.repeatedParameter);
      const client = query.client_id ? await activeClient(db, query.client_id) : undefined;
      if (!client) return sendErrorPage(reply, errorPages.unknownClient);
      const redirectUriSent = query.redirect_uri !== undefined;
      // RFC 6749 §3.1.2.3: with several registered, the request must name one.
      const redirectUri = redirectUriSent ? query.redirect_uri : client.redirect_uris.length === 1 ? client.redirect_uris[0] : undefined;
      if (redirectUri === undefined || !client.redirect_uris.includes(redirectUri)) return sendErrorPage(reply, errorPages.badRedirectUri);

      const state = single(query.state);
      request.authorizationResponse = { redirectUri, state };
      const repeated = Object.entries(query).find(([, value]) => Array.isArray(value));
      if (repeated)
        return respond(reply, 302, redirectUri, {
          error: 'invalid_request',
          error_description: `parameter ${repeated[0]} is repeated`,
          state,
        });
      if (query.response_type === undefined || query.response_type === '') {
        return respond(reply, 302, redirectUri, { error: 'invalid_request', error_description: 'missing parameter response_type', state });
      }
      if (query.response_type !== 'code') {
        return respond(reply, 302, redirectUri, {
          error: 'unsupported_response_type',
          error_description: 'only response_type=code is supported',
          state,
        });
      }

      const scope = requestedScope(client, single(query.scope));
      if ('error' in scope) return respond(reply, 302, redirectUri, { error: 'invalid_scope', error_description: scope.error, state });
      const pkce = pkceChallenge(client, single(query.code_challenge), single(query.code_challenge_method));
      if ('error' in pkce) return respond(reply, 302, redirectUri, { error: 'invalid_request', error_description: pkce.error, state });

      const accountId = request.session.accountId;
      if (!accountId) return reply.redirect(`/login?${new URLSearchParams({ return_to: request.url }).toString()}`, 302);

      const pending: PendingRequest = {
        clientId: client.client_id,
        redirectUri,
        redirectUriSent,
        state,
        scope: scope.value,
        codeChallenge: pkce.value,
        accountId,
      };
      const apps = await listManagedApps(db, accountId);
      if (apps.length === 0)
        return reply.view('no-app', {
          client: { name: client.client_name },
          email: request.session.email,
          csrfToken: reply.generateCsrf(),
        });
      const requestId = await requests.create(pending);
      const [only] = apps;
      if (apps.length === 1 && only) return renderConsent(request, reply, requestId, pending, client, only, false);
      return reply.view('pick-app', {
        client: { name: client.client_name },
        apps,
        requestId,
        email: request.session.email,
        csrfToken: reply.generateCsrf(),
      });
    },
  );

  app.get('/oauth/consent', { schema: { querystring: ConsentQuery } }, async (request, reply) => {
    const accountId = request.session.accountId;
    const pending = await requests.get(request.query.request_id);
    if (!pending || !accountId || pending.accountId !== accountId) return sendErrorPage(reply, errorPages.expiredRequest);
    const client = await activeClient(db, pending.clientId);
    if (!client) return sendErrorPage(reply, errorPages.unknownClient);
    const chosen = await findManagedApp(db, request.query.app_id, accountId);
    if (!chosen) return sendErrorPage(reply, errorPages.notMember);
    return renderConsent(request, reply, request.query.request_id, pending, client, chosen, true);
  });

  app.get('/oauth/pick-app', { schema: { querystring: PickAppQuery } }, async (request, reply) => {
    const requestId = request.query.request_id;
    const accountId = request.session.accountId;
    const pending = await requests.get(requestId);
    if (!pending || !accountId || pending.accountId !== accountId) return sendErrorPage(reply, errorPages.expiredRequest);
    const client = await activeClient(db, pending.clientId);
    if (!client) return sendErrorPage(reply, errorPages.unknownClient);
    const apps = await listManagedApps(db, accountId);
    return reply.view('pick-app', {
      client: { name: client.client_name },
      apps,
      requestId,
      email: request.session.email,
      csrfToken: reply.generateCsrf(),
    });
  });

  // "Not you?": sign out, then sign in again on the same partner request (rebuilt from what was stored, not from the form).
  app.post('/switch-account', { schema: { body: SwitchAccountForm }, preHandler: app.csrfProtection }, async (request, reply) => {
    const pending = await requests.take(request.body.request_id);
    if (!pending || pending.accountId !== request.session.accountId) return sendErrorPage(reply, errorPages.expiredRequest);
    await request.session.destroy();
    const restart = new URLSearchParams({ client_id: pending.clientId, response_type: 'code', scope: pending.scope });
    if (pending.redirectUriSent) restart.set('redirect_uri', pending.redirectUri);
    if (pending.state !== undefined) restart.set('state', pending.state);
    if (pending.codeChallenge !== undefined) {
      restart.set('code_challenge', pending.codeChallenge);
      restart.set('code_challenge_method', 'S256');
    }
    return reply.redirect(`/login?${new URLSearchParams({ return_to: `/oauth/authorize?${restart.toString()}` }).toString()}`, 303);
  });

  app.post('/oauth/decision', { schema: { body: DecisionForm }, preHandler: app.csrfProtection }, async (request, reply) => {
    const accountId = request.session.accountId;
    if (!accountId) return sendErrorPage(reply, errorPages.expiredRequest);
    const { request_id, app_id, decision } = request.body;
    const pending = await requests.take(request_id);
    if (!pending || pending.accountId !== accountId) return sendErrorPage(reply, errorPages.expiredRequest);
    const client = await activeClient(db, pending.clientId);
    if (!client?.redirect_uris.includes(pending.redirectUri)) {
      return sendErrorPage(reply, errorPages.unknownClient);
    }
    request.authorizationResponse = { redirectUri: pending.redirectUri, state: pending.state };
    if (decision === 'deny') {
      request.log.info({ event: 'authorization.denied', clientId: client.client_id }, 'authorization denied');
      return respond(reply, 303, pending.redirectUri, { error: 'access_denied', state: pending.state });
    }
    // The code's binding is read alongside the membership check: no added round trip.
    const [chosen, binding] = await Promise.all([findManagedApp(db, app_id, accountId), codeBinding(db, client.client_id, app_id)]);
    if (!chosen) return sendErrorPage(reply, errorPages.notMember);
    const code = await codes.issue({
      binding,
      clientId: client.client_id,
      appId: chosen.id,
      accountId,
      redirectUri: pending.redirectUri,
      redirectUriSent: pending.redirectUriSent,
      scope: pending.scope,
      codeChallenge: pending.codeChallenge,
    });
    app.serviceMetrics.codesIssued.inc();
    request.log.info({ event: 'authorization.approved', clientId: client.client_id, appId: chosen.id }, 'authorization approved');
    return respond(reply, 303, pending.redirectUri, { code, state: pending.state });
  });
};

export default authorizeRoutes;
