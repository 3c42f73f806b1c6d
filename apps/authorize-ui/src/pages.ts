// Rendering helpers shared by the routes: error pages and the consent page.
import type { FastifyReply } from 'fastify';

export interface ErrorPage {
  status: number;
  title: string;
  message: string;
}

export const errorPages = {
  unknownClient: {
    status: 400,
    title: 'Unknown partner',
    message: 'This link names a partner integration that does not exist or is not available.',
  },
  badRedirectUri: {
    status: 400,
    title: 'Invalid redirect address',
    message: 'This link asks to send you to an address the partner has not registered, so we stopped here to keep your account safe.',
  },
  repeatedParameter: { status: 400, title: 'Invalid request', message: 'This link repeats a parameter that must appear once.' },
  expiredRequest: {
    status: 400,
    title: 'This request has expired',
    message: 'The authorization request is no longer valid. Go back to the partner’s site and start again.',
  },
  notMember: { status: 403, title: 'Not your app', message: 'You are not a member of the app you selected.' },
  forbidden: {
    status: 403,
    title: 'Request refused',
    message: 'This form was not sent from this site, or it has expired. Go back and try again.',
  },
  tooManyAttempts: {
    status: 429,
    title: 'Too many attempts',
    message: 'Too many attempts from here or for this account. Wait a moment, then try again.',
  },
  notFound: { status: 404, title: 'Page not found', message: 'There is nothing at this address.' },
  serverError: { status: 500, title: 'Something went wrong', message: 'We could not complete this request. Please try again.' },
  unavailable: {
    status: 503,
    title: 'Temporarily unavailable',
    message: 'The service is busy or under maintenance. Please try again in a moment.',
  },
} satisfies Record<string, ErrorPage>;

export function sendErrorPage(reply: FastifyReply, page: ErrorPage): FastifyReply {
  return reply.code(page.status).view('error', { title: page.title, message: page.message });
}
