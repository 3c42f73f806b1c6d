// Pending authorization requests, stored server-side: the decision trusts only what was stored here.
import type { EphemeralStore } from '@partner-oauth/ephemeral-store';
import { randomToken } from '@partner-oauth/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once client and redirect URI are validated: from then on errors go back to the partner. */
    authorizationResponse: { redirectUri: string; state: string | undefined } | null;
  }
}

export interface PendingRequest {
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  state?: string | undefined;
  scope: string;
  /** RFC 7636 S256 challenge, when the partner sent one. */
  codeChallenge?: string | undefined;
  /** The account that started it: another session cannot finish it. */
  accountId: string;
}

export class AuthRequestStore {
  constructor(
    private readonly store: EphemeralStore,
    private readonly ttlMs: number,
  ) {}

  async create(request: PendingRequest): Promise<string> {
    const id = randomToken(24);
    await this.store.set(`areq:${id}`, JSON.stringify(request), this.ttlMs);
    return id;
  }

  async get(id: string): Promise<PendingRequest | null> {
    const raw = await this.store.get(`areq:${id}`);
    return raw === null ? null : (JSON.parse(raw) as PendingRequest);
  }

  /** Reads and removes it at once: a decision posted twice finds nothing the second time. */
  async take(id: string): Promise<PendingRequest | null> {
    const raw = await this.store.take(`areq:${id}`);
    return raw === null ? null : (JSON.parse(raw) as PendingRequest);
  }
}

/** Appends the authorization response to the registered URI (RFC 6749 §4.1.2), keeping it byte for byte. */
export function authorizationResponseUrl(redirectUri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.append(key, value);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query.toString()}`;
}

/**
 * Sends the browser back to the partner with `params`, its state and our issuer (RFC 9207); 302 answers a
 * link, 303 a form. Only for a redirect URI already checked against the client's registration.
 */
export function redirectToPartner(
  request: FastifyRequest,
  reply: FastifyReply,
  issuer: string,
  target: { redirectUri: string; state: string | undefined },
  params: Record<string, string | undefined>,
): FastifyReply {
  const url = authorizationResponseUrl(target.redirectUri, { ...params, state: target.state, iss: issuer });
  return reply.redirect(url, request.method === 'GET' ? 302 : 303);
}
