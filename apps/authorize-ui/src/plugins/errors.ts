// One error handler for the browser side: an HTML error page for anything thrown (a PageError names its page), the
// partner's redirect (RFC 6749 §4.1.2.1) for an OAuthError or a store that is down once client and redirect URI were
// validated, 503 with Retry-After otherwise.
import { OAuthError } from '@partner-oauth/contracts';
import { isStoreUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@partner-oauth/service-kit';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { redirectToPartner } from '../auth-requests.js';
import { errorPages, PageError, sendErrorPage } from '../pages.js';

export interface ErrorPagesOptions {
  /** The issuer named in the error redirect (RFC 9207). */
  issuer: string;
}

export default fp<ErrorPagesOptions>(
  async function errors(app: FastifyInstance, { issuer }) {
    app.setErrorHandler((err: FastifyError | PageError | OAuthError, request, reply) => {
      if (err instanceof PageError) return sendErrorPage(reply, err.page, err.detail);
      // RFC 6749 §4.1.2.1: once client and redirect URI are known good, the partner hears of the error.
      if (err instanceof OAuthError && request.authorizationResponse) {
        return redirectToPartner(request, reply, issuer, request.authorizationResponse, {
          error: err.error,
          error_description: err.message || undefined,
        });
      }
      if (err instanceof OAuthError) return sendErrorPage(reply, errorPages.invalidRequest);
      if (isStoreUnavailable(err)) {
        request.log.warn({ reason: err.message }, 'store unavailable');
        // The session cannot be saved now; without this, onSend would try again and fail past this handler.
        (request as { session?: unknown }).session = undefined;
        reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        const target = request.authorizationResponse;
        if (target) return redirectToPartner(request, reply, issuer, target, { error: 'temporarily_unavailable' });
        // sendErrorPage chooses the page's language if the failure came before it was chosen (loading the session).
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
