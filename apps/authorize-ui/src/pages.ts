// Error pages shared by the routes: a status, the catalogue entry that explains it, the OAuth error code when
// the page stops an authorization request (RFC 6749 §4.1.2.1: not redirected), and what helps a developer.
import type { FastifyReply } from 'fastify';
import { languageLinks, pageLocals } from './plugins/browser.js';

export interface ErrorPage {
  status: number;
  /** Catalogue entries `error.<key>.title` and `error.<key>.message`. */
  key: ErrorKey;
  /** The OAuth error code shown to the partner's developers (RFC 6749 §4.1.2.1, §5.2). */
  error?: string;
}

type ErrorKey =
  | 'unknownClient'
  | 'badRedirectUri'
  | 'repeatedParameter'
  | 'invalidRequest'
  | 'expiredRequest'
  | 'notMember'
  | 'notOwner'
  | 'forbidden'
  | 'tooManyAttempts'
  | 'notFound'
  | 'serverError'
  | 'unavailable';

export const errorPages = {
  unknownClient: { status: 400, key: 'unknownClient', error: 'invalid_client' },
  badRedirectUri: { status: 400, key: 'badRedirectUri', error: 'invalid_request' },
  repeatedParameter: { status: 400, key: 'repeatedParameter', error: 'invalid_request' },
  invalidRequest: { status: 400, key: 'invalidRequest', error: 'invalid_request' },
  tooLarge: { status: 413, key: 'invalidRequest', error: 'invalid_request' },
  expiredRequest: { status: 400, key: 'expiredRequest', error: 'invalid_request' },
  notMember: { status: 403, key: 'notMember', error: 'access_denied' },
  notOwner: { status: 404, key: 'notOwner' },
  forbidden: { status: 403, key: 'forbidden' },
  tooManyAttempts: { status: 429, key: 'tooManyAttempts' },
  notFound: { status: 404, key: 'notFound' },
  serverError: { status: 500, key: 'serverError', error: 'server_error' },
  unavailable: { status: 503, key: 'unavailable', error: 'temporarily_unavailable' },
} satisfies Record<string, ErrorPage>;

/**
 * What the page shows beyond its message. Values are printed escaped and never as links, except `back`,
 * which only ever holds the partner's registered website (checked to be a plain web address).
 */
export interface ErrorDetail {
  clientId?: string | undefined;
  redirectUri?: string | undefined;
  /** The hosts of the redirect URIs the partner registered, so its developer sees what was expected. */
  registeredHosts?: string[] | undefined;
  /** The way out: back to the partner when known (else the page offers the account). */
  back?: { href: string; client: string } | undefined;
}

/** Thrown by a handler that stops on our own page; the error handler answers with the page. */
export class PageError extends Error {
  constructor(
    readonly page: ErrorPage,
    readonly detail: ErrorDetail = {},
  ) {
    super(`error page ${page.key}`);
    this.name = 'PageError';
  }
}

/** Long values (a hostile link can carry kilobytes) are cut for display. */
const shown = (value: string | undefined) => (value !== undefined && value.length > 200 ? `${value.slice(0, 200)}…` : value);

export function sendErrorPage(reply: FastifyReply, page: ErrorPage, detail: ErrorDetail = {}): FastifyReply {
  // A failure before the page's language was chosen (e.g. while loading the session) leaves none yet.
  if (!reply.locals?.t) reply.locals = pageLocals(reply.request);
  return reply.code(page.status).view('error', {
    key: page.key,
    error: page.error,
    clientId: shown(detail.clientId),
    redirectUri: shown(detail.redirectUri),
    registeredHosts: detail.registeredHosts ?? [],
    back: detail.back,
    requestId: reply.request.id,
    // The switcher goes to the account page: a link carrying the refused request's URL is none to offer.
    languages: languageLinks(reply.locals.locale, '/'),
  });
}

/** A partner's website, as a link only when it is a plain web address (never javascript: or data:). */
export function website(uri: string | null | undefined): { href: string; label: string } | undefined {
  if (!uri) return undefined;
  try {
    const url = new URL(uri);
    return url.protocol === 'https:' || url.protocol === 'http:' ? { href: url.href, label: url.host } : undefined;
  } catch {
    return undefined;
  }
}

/** The way out of an error page: the partner's registered website, never a redirect URI it did not register. */
export function backToPartner(client: { client_uri: string | null; client_name: string }): ErrorDetail['back'] {
  const site = website(client.client_uri);
  return site && { href: site.href, client: client.client_name };
}
