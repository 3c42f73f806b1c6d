// POST /oauth/decision (RFC 6749 §4.1.2): Allow issues a one-time code bound to the chosen app, Deny answers
// access_denied; either way the browser goes back to the partner with state and iss (RFC 9207).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DecisionForm, OAuthError } from '@partner-oauth/contracts';
import type { CodeStore } from '@partner-oauth/ephemeral-store';
import { type Db, findManagedAppWithBinding } from '@partner-oauth/storage';
import { type AuthRequestStore, redirectToPartner } from '../auth-requests.js';
import { pendingRequestOf, requirePendingRequest } from '../consent-steps.js';
import { backToPartner, errorPages, PageError } from '../pages.js';

export interface DecisionRouteDeps {
  db: Db;
  codes: CodeStore;
  requests: AuthRequestStore;
  issuer: string;
}

const decisionRoutes: FastifyPluginAsyncTypebox<DecisionRouteDeps> = async (app, deps) => {
  const { db, codes, issuer } = deps;
  if (!app.hasRequestDecorator('authorizationResponse')) app.decorateRequest('authorizationResponse', null);
  // Taken, not read: a decision posted twice finds nothing the second time.
  const pendingGuard = requirePendingRequest(app, deps, { take: true, withChosenApp: true });

  app.post(
    '/oauth/decision',
    { schema: { body: DecisionForm }, preHandler: [app.csrfProtection, pendingGuard] },
    async (request, reply) => {
      const { client, pending, chosen: read } = pendingRequestOf(request);
      // The registration may have changed since the request was checked.
      if (!client.redirect_uris.includes(pending.redirectUri))
        throw new PageError(errorPages.unknownClient, { clientId: client.client_id });
      const target = { redirectUri: pending.redirectUri, state: pending.state };
      request.authorizationResponse = target;
      if (request.body.decision === 'deny') {
        request.log.info({ event: 'authorization.denied', clientId: client.client_id }, 'authorization denied');
        throw new OAuthError('access_denied', '');
      }
      // The membership check and the code's binding, read by the guard with the client (or here, for an app_id it left).
      const { app: chosen, binding } =
        read ?? (await findManagedAppWithBinding(db, request.body.app_id, pending.accountId, client.client_id));
      if (!chosen) throw new PageError(errorPages.notMember, { clientId: client.client_id, back: backToPartner(client) });
      const code = await codes.issue({
        binding,
        clientId: client.client_id,
        appId: chosen.id,
        accountId: pending.accountId,
        redirectUri: pending.redirectUri,
        redirectUriSent: pending.redirectUriSent,
        scope: pending.scope,
        codeChallenge: pending.codeChallenge,
      });
      app.serviceMetrics.codesIssued.inc();
      request.log.info({ event: 'authorization.approved', clientId: client.client_id, appId: chosen.id }, 'authorization approved');
      return redirectToPartner(request, reply, issuer, target, { code });
    },
  );
};

export default decisionRoutes;
