// POST /switch-account ("Not you?" on consent): sign out, then sign in again on the same partner request,
// rebuilt from what was stored, never from the form.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '@partner-oauth/storage';
import { Type } from 'typebox';
import type { AuthRequestStore } from '../auth-requests.js';
import { pendingRequestOf, requirePendingRequest } from '../consent-steps.js';
import { loginUrl } from '../return-to.js';

const SwitchAccountForm = Type.Object({
  _csrf: Type.Optional(Type.String({ maxLength: 256 })),
  request_id: Type.String({ minLength: 1, maxLength: 128 }),
});

const switchAccountRoutes: FastifyPluginAsyncTypebox<{ db: Db; requests: AuthRequestStore }> = async (app, deps) => {
  const pendingGuard = requirePendingRequest(app, deps, { take: true });
  app.post(
    '/switch-account',
    { schema: { body: SwitchAccountForm }, preHandler: [app.csrfProtection, pendingGuard] },
    async (request, reply) => {
      const { pending } = pendingRequestOf(request);
      await request.session.destroy();
      const restart = new URLSearchParams({ client_id: pending.clientId, response_type: 'code', scope: pending.scope });
      if (pending.redirectUriSent) restart.set('redirect_uri', pending.redirectUri);
      if (pending.state !== undefined) restart.set('state', pending.state);
      if (pending.codeChallenge !== undefined) {
        restart.set('code_challenge', pending.codeChallenge);
        restart.set('code_challenge_method', 'S256');
      }
      return reply.redirect(loginUrl(`/oauth/authorize?${restart.toString()}`), 303);
    },
  );
};

export default switchAccountRoutes;
