// POST /oauth/token (RFC 6749 §3.2, §4.1.3): an ordered list of small steps, grants keyed by grant_type.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OAuthErrorResponse, TokenRequest, TokenResponse } from '@partner-oauth/contracts';
import type { CodeStore } from '@partner-oauth/ephemeral-store';
import { type Clock, OAuthError, randomToken, sha256 } from '@partner-oauth/service-kit';
import { type Db, issueToken } from '@partner-oauth/storage';
import { authenticateClient, readCredentials } from '../client-auth.js';

/** Access tokens carry this prefix so secret scanners can recognise a leaked one. */
export const ACCESS_TOKEN_PREFIX = 'poat_';

export interface TokenRouteDeps {
  db: Db;
  codes: CodeStore;
  clock: Clock;
}

type Params = Record<string, string | undefined>;

/** RFC 6749 §3.2: parameters must not be included more than once. */
function singleValued(body: TokenRequest): Params {
  const params: Params = {};
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
    params[name] = value;
  }
  return params;
}

function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new OAuthError('invalid_request', `missing parameter ${name}`);
  return value;
}

type GrantHandler = (params: Params, clientId: string, deps: TokenRouteDeps) => Promise<TokenResponse>;

async function authorizationCodeGrant(params: Params, clientId: string, deps: TokenRouteDeps): Promise<TokenResponse> {
  const code = required(params, 'code');
  const grant = await deps.codes.redeem(code);
  const invalid = () => new OAuthError('invalid_grant', 'the code is invalid, expired, already used or was issued to another client');
  if (!grant || grant.clientId !== clientId) throw invalid();
  // RFC 6749 §4.1.3: a redirect_uri sent at authorize must be repeated, identical.
  const redirectUri = params.redirect_uri;
  if (grant.redirectUriSent ? redirectUri !== grant.redirectUri : redirectUri !== undefined && redirectUri !== grant.redirectUri) {
    throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
  }
  const accessToken = randomToken(32, ACCESS_TOKEN_PREFIX);
  await issueToken(deps.db, {
    clientId,
    appId: grant.appId,
    accountId: grant.accountId,
    scope: grant.scope,
    tokenHash: sha256(accessToken),
    codeHash: grant.codeHash,
  });
  return { access_token: accessToken, token_type: 'Bearer', app_id: grant.appId, ...(grant.scope ? { scope: grant.scope } : {}) };
}

const grants: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
};

const tokenRoutes: FastifyPluginAsyncTypebox<TokenRouteDeps> = async (app, deps) => {
  app.post(
    '/oauth/token',
    {
      schema: {
        body: TokenRequest,
        response: { 200: TokenResponse, 400: OAuthErrorResponse, 401: OAuthErrorResponse, 413: OAuthErrorResponse },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      if (!request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
      }
      const params = singleValued(request.body);
      const creds = readCredentials(request.headers.authorization, params);
      const { clientId } = await authenticateClient(deps.db, creds, new Date(deps.clock.now()));
      const grantType = required(params, 'grant_type');
      const handler = Object.hasOwn(grants, grantType) ? grants[grantType] : undefined;
      if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
      return handler(params, clientId, deps);
    },
  );
};

export default tokenRoutes;
