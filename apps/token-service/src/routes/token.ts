// POST /oauth/token (RFC 6749 §3.2, §4.1.3, RFC 7636 §4.6): an ordered list of small steps, grants keyed by grant_type.
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isPkceValue, OAuthError, OAuthErrorResponse, TokenRequest, TokenResponse } from '@partner-oauth/contracts';
import type { CodeStore, FailureThrottle } from '@partner-oauth/ephemeral-store';
import { type Clock, randomToken, type ServiceMetrics, safeEqual, sha256 } from '@partner-oauth/service-kit';
import { type Db, issueTokenFromCode, revokeTokenById, revokeTokensFromCode } from '@partner-oauth/storage';
import { authenticateThrottled, readCredentials, tooManyRequests } from '../client-auth.js';
import { formParams, NO_STORE, type Params, required } from '../params.js';
import type { UsageRecorder } from '../usage.js';

/** Access tokens carry this prefix so secret scanners can recognise a leaked one. */
export const ACCESS_TOKEN_PREFIX = 'poat_';

export interface TokenRouteDeps {
  db: Db;
  codes: CodeStore;
  clock: Clock;
  throttles: { clientAuth: FailureThrottle; grants: FailureThrottle };
  usage: UsageRecorder;
}

const invalidGrant = (description = 'the code is invalid, expired, already used or was issued to another client') =>
  new OAuthError('invalid_grant', description);

function checkPkce(challenge: string | undefined, verifier: string | undefined): void {
  if (challenge === undefined) {
    // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
    if (verifier !== undefined) throw invalidGrant('code_verifier sent for a code issued without code_challenge');
    return;
  }
  if (verifier === undefined || !isPkceValue(verifier)) throw invalidGrant('a valid code_verifier is required');
  const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  if (!safeEqual(computed, challenge)) throw invalidGrant('code_verifier does not match code_challenge');
}

type GrantDeps = TokenRouteDeps & { metrics: ServiceMetrics };
type GrantHandler = (params: Params, clientId: string, deps: GrantDeps) => Promise<TokenResponse>;

async function authorizationCodeGrant(params: Params, clientId: string, deps: GrantDeps): Promise<TokenResponse> {
  const code = required(params, 'code');
  const grant = await deps.codes.redeem(code, clientId);
  if (grant === 'wrong_client') {
    // Checked before the code is consumed (one script in Redis): the rightful client can still redeem it.
    deps.metrics.codesRefused.inc({ reason: 'wrong_client' });
    throw invalidGrant();
  }
  if (!grant) {
    // Unknown, expired or already used: if it was used, nothing issued from it may keep working.
    const codeHash = sha256(code);
    await deps.codes.flagReplay(codeHash);
    const revoked = await revokeTokensFromCode(deps.db, codeHash);
    deps.metrics.codesRefused.inc({ reason: revoked > 0 ? 'replayed' : 'invalid' });
    if (revoked > 0) deps.metrics.tokensRevoked.inc({ by: 'replay' }, revoked);
    throw invalidGrant();
  }
  // RFC 6749 §4.1.3: a redirect_uri sent at authorize must be repeated, identical.
  const redirectUri = params.redirect_uri;
  if (grant.redirectUriSent ? redirectUri !== grant.redirectUri : redirectUri !== undefined && redirectUri !== grant.redirectUri) {
    throw invalidGrant('redirect_uri does not match the authorization request');
  }
  checkPkce(grant.codeChallenge, params.code_verifier);
  const accessToken = randomToken(32, ACCESS_TOKEN_PREFIX);
  // Issued only while what the code is bound to still holds (client, redirect URI, epoch, the pair's grant).
  const issued = await issueTokenFromCode(deps.db, {
    clientId,
    appId: grant.appId,
    accountId: grant.accountId,
    scope: grant.scope,
    tokenHash: sha256(accessToken),
    codeHash: grant.codeHash,
    redirectUri: grant.redirectUri,
    binding: grant.binding ?? null,
  });
  if (!issued) {
    deps.metrics.codesRefused.inc({ reason: 'grant_ended' });
    throw invalidGrant();
  }
  const { tokenId } = issued;
  let replayed: boolean;
  try {
    replayed = await deps.codes.wasReplayed(grant.codeHash);
  } catch (err) {
    // Unable to rule out a replay: the token is never returned, so it must not stay live either.
    await revokeTokenById(deps.db, tokenId).catch(() => undefined);
    throw err;
  }
  if (replayed) {
    await revokeTokenById(deps.db, tokenId);
    deps.metrics.codesRefused.inc({ reason: 'replayed' });
    deps.metrics.tokensRevoked.inc({ by: 'replay' });
    throw invalidGrant();
  }
  deps.metrics.codesRedeemed.inc();
  deps.metrics.tokensIssued.inc();
  deps.usage.note(issued.authorizationId);
  return { access_token: accessToken, token_type: 'Bearer', app_id: grant.appId, scope: grant.scope };
}

const grants: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
};

const tokenRoutes: FastifyPluginAsyncTypebox<TokenRouteDeps> = async (app, routeDeps) => {
  const deps: GrantDeps = { ...routeDeps, metrics: app.serviceMetrics };
  app.post(
    '/oauth/token',
    {
      schema: {
        body: TokenRequest,
        response: {
          200: TokenResponse,
          400: OAuthErrorResponse,
          401: OAuthErrorResponse,
          413: OAuthErrorResponse,
          429: OAuthErrorResponse,
        },
      },
    },
    async (request, reply) => {
      reply.headers(NO_STORE);
      const params = formParams(request);
      const creds = readCredentials(request.headers.authorization, params);
      const now = new Date(deps.clock.now());
      // The refused-codes throttle is read alongside authentication (one pipelined Redis trip, not two).
      const [{ clientId }, throttled] = await Promise.all([
        authenticateThrottled(deps.db, creds, now, deps.throttles.clientAuth, request.ip),
        deps.throttles.grants.state(creds.clientId),
      ]);
      const grantType = required(params, 'grant_type');
      const handler = Object.hasOwn(grants, grantType) ? grants[grantType] : undefined;
      if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
      if (throttled.blocked) throw tooManyRequests(throttled.retryAfterSeconds);
      try {
        return await handler(params, clientId, deps);
      } catch (err) {
        if (err instanceof OAuthError && err.error === 'invalid_grant') await deps.throttles.grants.fail(clientId);
        throw err;
      }
    },
  );
};

export default tokenRoutes;
