// One error handler for the browser side: an HTML error page for anything thrown, the partner's redirect (RFC 6749
// §4.1.2.1) when a store is down after client and redirect URI were validated, 503 with Retry-After otherwise.
import { isStoreUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@partner-oauth/service-kit';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { authorizationResponseUrl } from '../auth-requests.js';
import { negotiateLocale, translator } from '../i18n/index.js';
import { errorPages, sendErrorPage } from '../pages.js';

export interface ErrorPagesOptions {
  /** The issuer named in the error redirect (RFC 9207). */
  issuer: string;
}

export default fp<ErrorPagesOptions>(
  async function errors(app: FastifyInstance, { issuer }) {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      if (isStoreUnavailable(err)) {
        request.log.warn({ reason: err.message }, 'store unavailable');
        // The session cannot be saved now; without this, onSend would try again and fail past this handler.
        (request as { session?: unknown }).session = undefined;
        reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        const target = request.authorizationResponse;
        // RFC 6749 §4.1.2.1: once client and redirect URI are known good, the partner hears of the error.
        if (target) {
          const url = authorizationResponseUrl(target.redirectUri, {
            error: 'temporarily_unavailable',
            state: target.state,
            iss: issuer,
          });
          return reply.redirect(url, request.method === 'GET' ? 302 : 303);
        }
        // The session is loaded before the page's language is chosen: a failure there leaves none.
        if (!reply.locals?.t) {
          const locale = negotiateLocale(request.headers['accept-language']);
          reply.locals = { locale, t: translator(locale) };
        }
        return sendErrorPage(reply, errorPages.unavailable);
      }
      const status = err.statusCode ?? 500;
      if (status === 403 && err.code?.startsWith('FST_CSRF')) return sendErrorPage(reply, errorPages.forbidden);
      if (status === 429) return sendErrorPage(reply, errorPages.tooManyAttempts);
      if (status < 500) {
        return sendErrorPage(reply, status === 413 ? errorPages.tooLarge : errorPages.invalidRequest);
      }
      request.log.error({ err }, 'request failed');
      return sendErrorPage(reply, errorPages.serverError);
    });
    app.setNotFoundHandler((_request, reply) => sendErrorPage(reply, errorPages.notFound));
  },
  { name: 'error-pages' },
);
