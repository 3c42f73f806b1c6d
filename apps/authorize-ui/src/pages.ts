// Error pages shared by the routes: a status and the catalogue entry that explains it.
import type { FastifyReply } from 'fastify';

export interface ErrorPage {
  status: number;
  /** Catalogue entries `error.<key>.title` and `error.<key>.message`. */
  key: ErrorKey;
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
  unknownClient: { status: 400, key: 'unknownClient' },
  badRedirectUri: { status: 400, key: 'badRedirectUri' },
  repeatedParameter: { status: 400, key: 'repeatedParameter' },
  invalidRequest: { status: 400, key: 'invalidRequest' },
  tooLarge: { status: 413, key: 'invalidRequest' },
  expiredRequest: { status: 400, key: 'expiredRequest' },
  notMember: { status: 403, key: 'notMember' },
  notOwner: { status: 404, key: 'notOwner' },
  forbidden: { status: 403, key: 'forbidden' },
  tooManyAttempts: { status: 429, key: 'tooManyAttempts' },
  notFound: { status: 404, key: 'notFound' },
  serverError: { status: 500, key: 'serverError' },
  unavailable: { status: 503, key: 'unavailable' },
} satisfies Record<string, ErrorPage>;

/** Thrown by a handler that stops on our own page; the error handler answers with the page. */
export class PageError extends Error {
  constructor(readonly page: ErrorPage) {
    super(`error page ${page.key}`);
    this.name = 'PageError';
  }
}

export function sendErrorPage(reply: FastifyReply, page: ErrorPage): FastifyReply {
  return reply.code(page.status).view('error', { key: page.key });
}
