// Client authentication at the token endpoint: client_secret_basic and client_secret_post (RFC 6749 §2.3.1).
import { OAuthError } from '@partner-oauth/contracts';
import type { FailureThrottle } from '@partner-oauth/ephemeral-store';
import { digestEqual, sha256 } from '@partner-oauth/service-kit';
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

export function invalidClient(method: ClientCredentials['method'] | undefined, description = 'client authentication failed'): OAuthError {
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
  /** The secret that matched: a write that must not outlast it re-checks it (a match from the cache is provisional). */
  secretId: string;
  /** How it authenticated: a refusal after the fact answers as authentication would have (Basic gets its challenge). */
  method: ClientCredentials['method'];
}

/** How long a client's credentials read from the database answer from memory: the time a settings change may take here. */
export const CREDENTIAL_CACHE_MS = 1_000;

/**
 * Client credentials read recently, by client id, so a partner's stream of exchanges does not read the same rows
 * for each one. Only a match is trusted, and only by a caller whose write re-checks the matched secret and the
 * client's status (the code exchange's statement does): a presented secret matching none of the cached ones is
 * checked against the database (it may be new), and a secret revoked or a client disabled within the window is
 * refused by that write. Hashes only, as stored; bounded in size, oldest entry out first.
 */
export class CredentialCache {
  private readonly entries = new Map<string, { record: ClientCredentialsRecord; readAt: number }>();

  constructor(
    private readonly ttlMs = CREDENTIAL_CACHE_MS,
    private readonly maxEntries = 10_000,
  ) {}

  get(clientId: string, now: number): ClientCredentialsRecord | undefined {
    const entry = this.entries.get(clientId);
    if (!entry) return undefined;
    if (now - entry.readAt < this.ttlMs && now >= entry.readAt) return entry.record;
    this.entries.delete(clientId);
    return undefined;
  }

  forget(clientId: string): void {
    this.entries.delete(clientId);
  }

  set(clientId: string, record: ClientCredentialsRecord, now: number): void {
    this.entries.delete(clientId);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(clientId, { record, readAt: now });
  }
}

/** The live secret `presented` (a SHA-256) matches, comparing every one in constant time; none for an inactive client. */
function matchSecret(
  client: ClientCredentialsRecord | undefined,
  presented: string,
): ClientCredentialsRecord['secrets'][number] | undefined {
  let matched: ClientCredentialsRecord['secrets'][number] | undefined;
  for (const secret of client?.secrets ?? []) if (digestEqual(presented, secret.secret_hash)) matched = secret;
  return client?.status === 'active' ? matched : undefined;
}

/**
 * Checks the credentials against the client's live secrets. Every failure, unknown
 * client included, gives the same answer, and each live secret is compared.
 */
export async function authenticateClient(
  db: Db,
  creds: ClientCredentials,
  now: Date,
  cache?: CredentialCache,
): Promise<AuthenticatedClient> {
  const presented = sha256(creds.clientSecret);
  let client = cache?.get(creds.clientId, now.getTime());
  let matched = matchSecret(client, presented);
  if (!matched) {
    // An id the database cannot hold (a NUL byte) names no client: the same answer as any unknown one.
    client = await findClientCredentials(db, creds.clientId, now).catch((err) => {
      if (err instanceof UnstorableTextError) return undefined;
      throw err;
    });
    if (client) cache?.set(creds.clientId, client, now.getTime());
    matched = matchSecret(client, presented);
  }
  if (!client || !matched) throw invalidClient(creds.method);
  // Shown to admins rotating secrets; written at most once a minute and not awaited, so it costs the request nothing.
  if (lastUseIsStale(matched.last_used_at, now)) {
    matched.last_used_at = now;
    markSecretUsed(db, matched.id, now).catch(() => {});
  }
  return { clientId: client.clientId, lifetimes: client.lifetimes, secretId: matched.id, method: creds.method };
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
  const subject = throttleSubject(creds, address);
  const [state, outcome] = await Promise.all([
    throttle.state(subject),
    authenticateClient(db, creds, now).then(
      (client) => ({ client }),
      (error: unknown) => ({ error }),
    ),
  ]);
  if (state.blocked) throw tooManyRequests(state.retryAfterSeconds);
  if ('client' in outcome) return outcome.client;
  return refuseThrottled(throttle, subject, outcome.error);
}

/** Whom the client-authentication throttle counts: one client id from one address. */
export const throttleSubject = (creds: ClientCredentials, address: string): string => `${creds.clientId}:${address}`;

/** A failed authentication's answer: 429 while blocked (the caller learns nothing more), else the failure, counted. */
export async function refuseThrottled(throttle: FailureThrottle, subject: string, error: unknown): Promise<never> {
  if (!(error instanceof OAuthError && error.error === 'invalid_client')) throw error;
  const state = await throttle.state(subject);
  if (state.blocked) throw tooManyRequests(state.retryAfterSeconds);
  await throttle.fail(subject);
  throw error;
}
