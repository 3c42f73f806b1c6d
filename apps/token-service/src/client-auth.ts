// Client authentication at the token endpoint: client_secret_basic and client_secret_post (RFC 6749 §2.3.1).
import { OAuthError } from '@partner-oauth/contracts';
import type { FailureThrottle } from '@partner-oauth/ephemeral-store';
import { safeEqual, sha256 } from '@partner-oauth/service-kit';
import {
  type ClientCredentialsRecord,
  type Db,
  findClientCredentials,
  lastUseIsStale,
  markSecretUsed,
  type TokenLifetimes,
  UnstorableTextError,
} from '@partner-oauth/storage';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

const basicChallenge = { 'www-authenticate': 'Basic realm="oauth", charset="UTF-8"' };

function invalidClient(method: ClientCredentials['method'] | undefined, description = 'client authentication failed'): OAuthError {
  // RFC 6749 §5.2: a failed Authorization-header attempt answers 401 with its challenge.
  return new OAuthError('invalid_client', description, method === 'client_secret_basic' ? { headers: basicChallenge } : {});
}

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Reads the credentials the request presents; exactly one method is allowed. */
export function readCredentials(authorization: string | undefined, body: Record<string, string | undefined>): ClientCredentials {
  const inBody = body.client_secret !== undefined;
  if (authorization !== undefined) {
    if (inBody) throw new OAuthError('invalid_request', 'use one client authentication method, not several');
    const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization.trim());
    if (!match?.[1]) throw invalidClient('client_secret_basic', 'malformed Basic authorization header');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw invalidClient('client_secret_basic', 'malformed Basic authorization header');
    let clientId: string;
    let clientSecret: string;
    try {
      clientId = decodeFormComponent(decoded.slice(0, colon));
      clientSecret = decodeFormComponent(decoded.slice(colon + 1));
    } catch {
      throw invalidClient('client_secret_basic', 'malformed Basic authorization header');
    }
    if (body.client_id !== undefined && body.client_id !== clientId) {
      throw new OAuthError('invalid_request', 'client_id does not match the authenticated client');
    }
    return { clientId, clientSecret, method: 'client_secret_basic' };
  }
  if (body.client_id === undefined || body.client_id === '') throw invalidClient(undefined, 'client authentication required');
  if (!inBody || body.client_secret === '') throw invalidClient(undefined, 'client authentication required');
  return { clientId: body.client_id, clientSecret: body.client_secret as string, method: 'client_secret_post' };
}

/** An authenticated client, with its expiring-token setting (null: the spec's tokens, live until revoked). */
export interface AuthenticatedClient {
  clientId: string;
  lifetimes: TokenLifetimes | null;
}

/**
 * Checks the credentials against the client's live secrets. Every failure, unknown
 * client included, gives the same answer, and each live secret is compared.
 */
export async function authenticateClient(db: Db, creds: ClientCredentials, now: Date): Promise<AuthenticatedClient> {
  // An id the database cannot hold (a NUL byte) names no client: the same answer as any unknown one.
  const client = await findClientCredentials(db, creds.clientId, now).catch((err) => {
    if (err instanceof UnstorableTextError) return undefined;
    throw err;
  });
  const presented = sha256(creds.clientSecret);
  let matched: ClientCredentialsRecord['secrets'][number] | undefined;
  for (const secret of client?.secrets ?? []) if (safeEqual(presented, secret.secret_hash)) matched = secret;
  if (!client || !matched || client.status !== 'active') throw invalidClient(creds.method);
  // Shown to admins rotating secrets; written at most once a minute and not awaited, so it costs the request nothing.
  if (lastUseIsStale(matched.last_used_at, now)) markSecretUsed(db, matched.id, now).catch(() => {});
  return { clientId: client.clientId, lifetimes: client.lifetimes };
}

export function tooManyRequests(retryAfterSeconds: number): OAuthError {
  return new OAuthError('temporarily_unavailable', 'too many failed attempts; retry later', {
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}

/**
 * authenticateClient, refused for a while after repeated failures of one client id from one address.
 * The throttle is read while the credentials are looked up: a blocked caller learns nothing either way.
 */
export async function authenticateThrottled(
  db: Db,
  creds: ClientCredentials,
  now: Date,
  throttle: FailureThrottle,
  address: string,
): Promise<AuthenticatedClient> {
  const subject = `${creds.clientId}:${address}`;
  const [state, outcome] = await Promise.all([
    throttle.state(subject),
    authenticateClient(db, creds, now).then(
      (client) => ({ client }),
      (error: unknown) => ({ error }),
    ),
  ]);
  if (state.blocked) throw tooManyRequests(state.retryAfterSeconds);
  if ('client' in outcome) return outcome.client;
  if (outcome.error instanceof OAuthError && outcome.error.error === 'invalid_client') await throttle.fail(subject);
  throw outcome.error;
}
