// POST /oauth/token (RFC 6749 §3.2, §4.1.3, §6, RFC 7636 §4.6, RFC 9700 §4.14.2): an ordered list of small steps, grants keyed by grant_type.
import { hash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  formatScope,
  isPkceValue,
  OAuthError,
  OAuthErrorResponse,
  parseScope,
  TokenRequest,
  TokenResponse,
} from '@partner-oauth/contracts';
import { type CodeStore, type CounterLimit, FailureThrottle, MAX_CODE_TTL_MS, type RedeemedCode } from '@partner-oauth/ephemeral-store';
import { type Clock, digestEqual, randomToken, type ServiceMetrics, StoreUnavailableError, sha256 } from '@partner-oauth/service-kit';
import {
  type Db,
  type IssueExpiry,
  type RotationBatcher,
  revokeTokensFromCode,
  rotateRefreshToken,
  type TokenIssueBatcher,
  type TokenLifetimes,
} from '@partner-oauth/storage';
import {
  type AuthenticatedClient,
  authenticateClient,
  authenticateThrottled,
  type CredentialCache,
  invalidClient,
  readCredentials,
  refuseThrottled,
  throttleSubject,
  tooManyRequests,
} from '../client-auth.js';
import { formParams, NO_STORE, type Params, required } from '../params.js';
import type { UsageRecorder } from '../usage.js';

/** Access tokens carry this prefix so secret scanners can recognise a leaked one. */
export const ACCESS_TOKEN_PREFIX = 'poat_';
/** Refresh tokens have their own prefix: a scanner, a log reader or a partner tells the two apart at a glance. */
export const REFRESH_TOKEN_PREFIX = 'port_';
/** What randomToken(32, prefix) makes: the prefix and 256 random bits in base64url. */
const REFRESH_TOKEN_SHAPE = /^port_[A-Za-z0-9_-]{43}$/;

export interface TokenRouteDeps {
  db: Db;
  /** The code exchange's write, exchanges in flight together grouped into one call and commit (one per app). */
  tokenIssues: TokenIssueBatcher;
  /** The refresh grant's rotation, refreshes in flight together grouped into one call and commit. */
  rotations: RotationBatcher;
  codes: CodeStore;
  clock: Clock;
  throttles: { clientAuth: FailureThrottle; grants: FailureThrottle };
  usage: UsageRecorder;
  /** Client credentials read recently (client-auth.ts): trusted only by the two grants, whose statements re-check them. */
  credentials?: CredentialCache;
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
  const computed = hash('sha256', verifier, 'base64url');
  if (!digestEqual(computed, challenge)) throw invalidGrant('code_verifier does not match code_challenge');
}

type GrantDeps = TokenRouteDeps & {
  metrics: ServiceMetrics;
  requestId?: string;
  /** The caller's throttles, when not yet checked: the code's redemption checks them in the same step. */
  limits?: CounterLimit[];
  /** The caller's credentials checked again against the database, not the cache (its client's settings changed). */
  reauthenticate: () => Promise<AuthenticatedClient>;
};
type GrantHandler = (params: Params, client: AuthenticatedClient, deps: GrantDeps) => Promise<TokenResponse>;

/** With expiring tokens on, the deadlines of a code exchange's access token and first refresh token, and that token. */
function firstExpiry(lifetimes: TokenLifetimes, now: number): { expiry: IssueExpiry; refreshToken: string } {
  const refreshToken = randomToken(32, REFRESH_TOKEN_PREFIX);
  const familyExpiresAt = new Date(now + lifetimes.refreshAbsoluteSeconds * 1000);
  const idle = new Date(now + lifetimes.refreshIdleSeconds * 1000);
  return {
    refreshToken,
    expiry: {
      accessExpiresAt: new Date(now + lifetimes.accessSeconds * 1000),
      refreshHash: sha256(refreshToken),
      refreshExpiresAt: idle < familyExpiresAt ? idle : familyExpiresAt,
      familyExpiresAt,
    },
  };
}

/**
 * The code's token written (TokenIssueBatcher: one call and commit for the exchanges in flight together), issued only
 * while what the code is bound to still holds (client, redirect URI, epoch, the pair's grant), the secret that
 * authenticated the request is live, and the client's expiring-token setting is the one the expiry was computed from.
 */
async function issueFromCode(grant: RedeemedCode, accessToken: string, client: AuthenticatedClient, deps: GrantDeps) {
  const now = deps.clock.now();
  const { lifetimes } = client;
  const expiring = lifetimes ? firstExpiry(lifetimes, now) : null;
  const issued = await deps.tokenIssues.issue({
    clientId: client.clientId,
    appId: grant.appId,
    accountId: grant.accountId,
    scope: grant.scope,
    tokenHash: sha256(accessToken),
    codeHash: grant.codeHash,
    redirectUri: grant.redirectUri,
    binding: grant.binding ?? null,
    secretId: client.secretId,
    now: new Date(now),
    lifetimes,
    expiry: expiring?.expiry ?? null,
  });
  return { issued, expiring, lifetimes };
}

async function authorizationCodeGrant(params: Params, client: AuthenticatedClient, deps: GrantDeps): Promise<TokenResponse> {
  const { clientId } = client;
  const code = required(params, 'code');
  const grant = await deps.codes.redeem(code, clientId, deps.limits);
  if (typeof grant === 'object' && grant !== null && 'over' in grant) {
    throw tooManyRequests(FailureThrottle.blockedFor(grant.ttlMs).retryAfterSeconds);
  }
  if (grant === 'wrong_client') {
    // Checked before the code is consumed (one script in Redis): the rightful client can still redeem it.
    deps.metrics.codesRefused.inc({ reason: 'wrong_client' });
    throw invalidGrant();
  }
  if (!grant) {
    // Unknown, expired or already used: if it was used, nothing issued from it may keep working. Postgres marks the code
    // (a redemption of it still being written then writes nothing) and revokes what was issued from it (0011).
    const codeHash = sha256(code);
    // For instances of the previous release during a rolling deploy, which read this flag after their commit.
    await deps.codes.flagReplay(codeHash);
    const revoked = await revokeTokensFromCode(deps.db, codeHash, MAX_CODE_TTL_MS);
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
  let issue: Awaited<ReturnType<typeof issueFromCode>>;
  try {
    issue = await issueFromCode(grant, accessToken, client, deps);
    // The expiring-token setting changed since the credentials (perhaps cached) were read: read them again, issue again.
    for (let attempt = 0; issue.issued.status === 'client_changed'; attempt++) {
      if (attempt === 2) throw new OAuthError('temporarily_unavailable', 'the client is being changed; retry', { status: 503 });
      issue = await issueFromCode(grant, accessToken, await deps.reauthenticate(), deps);
    }
  } catch (err) {
    // Nothing was written (Postgres could not be reached, or the client changed under us): the code goes back, still
    // good for the partner's retry. Not after a failure mid-write, whose outcome is unknown.
    const unwritten = (err instanceof StoreUnavailableError && err.unsent) || (err instanceof OAuthError && err.status === 503);
    if (unwritten) await deps.codes.restore(code, grant).catch(() => undefined);
    throw err;
  }
  const { issued, expiring, lifetimes } = issue;
  if (issued.status === 'client_refused') {
    // Disabled (or its secret ended) since it authenticated: the same answer as a failed authentication.
    deps.metrics.codesRefused.inc({ reason: 'client_refused' });
    throw invalidClient(client.method);
  }
  if (issued.status === 'replayed') {
    // Presented again before this write reached Postgres: nothing was written, and the code is spent.
    deps.metrics.codesRefused.inc({ reason: 'replayed' });
    throw invalidGrant();
  }
  if (issued.status !== 'issued') {
    deps.metrics.codesRefused.inc({ reason: 'grant_ended' });
    throw invalidGrant();
  }
  deps.metrics.codesRedeemed.inc();
  deps.metrics.tokensIssued.inc();
  deps.usage.note(issued.authorizationId);
  const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', app_id: grant.appId, scope: grant.scope };
  // Without the setting the spec's response, to the byte: no expires_in, no refresh_token.
  if (!expiring || !lifetimes) return response;
  return { ...response, expires_in: lifetimes.accessSeconds, refresh_token: expiring.refreshToken };
}

/** One answer for every refresh token that does not rotate: which of the reasons it was is never told (issue 14). */
const invalidRefreshToken = () =>
  new OAuthError('invalid_grant', 'the refresh token is invalid, expired, revoked or was issued to another client');

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the client's live refresh token is ended and a new pair issued; `scope`
 * may narrow the new access token, never widen it. A token already rotated ends its whole family (rotateRefreshToken).
 */
async function refreshTokenGrant(params: Params, client: AuthenticatedClient, deps: GrantDeps): Promise<TokenResponse> {
  const { clientId } = client;
  // §5.2: a client without the setting holds no refresh token, and may not use the grant (asked of the database
  // before refusing: a cached match may predate the setting being turned on).
  const allowed = client.lifetimes ? client : await deps.reauthenticate();
  if (!allowed.lifetimes) throw new OAuthError('unauthorized_client', 'the client is not allowed the refresh_token grant');
  const presented = required(params, 'refresh_token');
  let scope: string | null = null;
  // §3.1: a parameter sent without a value is treated as omitted.
  if (params.scope !== undefined && params.scope !== '') {
    const parsed = parseScope(params.scope);
    if (!parsed || parsed.length === 0) throw new OAuthError('invalid_scope', 'scope is malformed');
    scope = formatScope(parsed);
  }
  // Not one of ours (wrong prefix or length): no query, the same answer as any other bad token.
  if (!REFRESH_TOKEN_SHAPE.test(presented)) throw invalidRefreshToken();
  const accessToken = randomToken(32, ACCESS_TOKEN_PREFIX);
  const refreshToken = randomToken(32, REFRESH_TOKEN_PREFIX);
  const now = new Date(deps.clock.now());
  const result = await rotateRefreshToken(
    deps.db,
    {
      clientId,
      // The secret that authenticated the request (perhaps from the cache) must still be live for the rotation.
      secretId: allowed.secretId,
      tokenHash: sha256(presented),
      now,
      scope,
      accessHash: sha256(accessToken),
      refreshHash: sha256(refreshToken),
      requestId: deps.requestId,
    },
    deps.rotations,
  );
  if (!result.ok) {
    // Refused perhaps for the client's sake (its secret revoked, the client disabled or its setting turned off since a
    // cached match): the database answers for the client first, as authentication would have.
    if (result.refusal === 'invalid') {
      const fresh = await deps.reauthenticate();
      if (!fresh.lifetimes) throw new OAuthError('unauthorized_client', 'the client is not allowed the refresh_token grant');
    }
    deps.metrics.refreshesRefused.inc({ reason: result.refusal });
    if (result.ended.length > 0) deps.metrics.tokensRevoked.inc({ by: 'refresh_reuse' }, result.ended.length);
    if (result.refusal === 'invalid_scope') throw new OAuthError('invalid_scope', 'scope may only narrow the scope granted');
    throw invalidRefreshToken();
  }
  deps.metrics.tokensIssued.inc();
  deps.usage.note(result.authorizationId);
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    app_id: result.appId,
    scope: result.scope,
    expires_in: Math.max(0, Math.round((result.accessExpiresAt.getTime() - now.getTime()) / 1000)),
    refresh_token: refreshToken,
  };
}

const grants: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
};

const tokenRoutes: FastifyPluginAsyncTypebox<TokenRouteDeps> = async (app, routeDeps) => {
  const deps: Omit<GrantDeps, 'reauthenticate'> = { ...routeDeps, metrics: app.serviceMetrics };
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
      const grantDeps: GrantDeps = {
        ...deps,
        requestId: request.id,
        reauthenticate: () => {
          deps.credentials?.forget(creds.clientId);
          return authenticateClient(deps.db, creds, now, deps.credentials);
        },
      };
      let client: AuthenticatedClient;
      const subject = throttleSubject(creds, request.ip);
      const cached = () =>
        authenticateClient(deps.db, creds, now, deps.credentials).catch((err: unknown) =>
          refuseThrottled(deps.throttles.clientAuth, subject, err),
        );
      if (params.grant_type === 'authorization_code' && params.code) {
        // The hot path: credentials from the cache when they match, and both throttles checked by the script that
        // redeems the code, so a blocked caller still learns nothing and its code stays; one Redis round trip in all.
        client = await cached();
        grantDeps.limits = [deps.throttles.clientAuth.limit(subject), deps.throttles.grants.limit(client.clientId)];
      } else if (params.grant_type === 'refresh_token') {
        // Credentials from the cache too (the rotation re-checks the secret and the client), then both throttles, one read.
        client = await cached();
        const state = await deps.throttles.clientAuth.stateAmong(subject, [deps.throttles.grants.limit(client.clientId)]);
        if (state.blocked) throw tooManyRequests(state.retryAfterSeconds);
      } else {
        // The refused-codes throttle is read alongside authentication (both in flight at once: one Redis round trip, not two).
        const [authenticated, throttled] = await Promise.all([
          authenticateThrottled(deps.db, creds, now, deps.throttles.clientAuth, request.ip),
          deps.throttles.grants.state(creds.clientId),
        ]);
        client = authenticated;
        const grantType = required(params, 'grant_type');
        if (!Object.hasOwn(grants, grantType)) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
        if (throttled.blocked) throw tooManyRequests(throttled.retryAfterSeconds);
      }
      const handler = grants[params.grant_type as string] as GrantHandler;
      try {
        return await handler(params, client, grantDeps);
      } catch (err) {
        // Refused codes and refresh tokens alike count toward the client's throttle.
        if (err instanceof OAuthError && err.error === 'invalid_grant') await deps.throttles.grants.fail(client.clientId);
        // A client whose secret or status ended since the cached match: a failed authentication, counted as one.
        if (err instanceof OAuthError && err.error === 'invalid_client') await refuseThrottled(deps.throttles.clientAuth, subject, err);
        throw err;
      }
    },
  );
};

export default tokenRoutes;
