// Connected integrations: app owners see which partners can act on their apps, and remove them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isScopeName, SCOPES } from '@partner-oauth/contracts';
import { type Db, endAuthorizations, findOwnedAuthorization, listConnectedIntegrations } from '@partner-oauth/storage';
import { Type } from 'typebox';
import { formatDate } from '../i18n/index.js';
import { errorPages, PageError } from '../pages.js';
import { loginUrl } from '../return-to.js';

const RemoveForm = Type.Object({
  _csrf: Type.Optional(Type.String({ maxLength: 256 })),
  authorization_id: Type.String({ minLength: 1, maxLength: 64 }),
});

interface Group {
  appId: string;
  appName: string;
  items: { authorizationId: string; clientName: string; logo: string | null; since: string; scopes: string[] }[];
}

const integrationRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/integrations', async (request, reply) => {
    const accountId = request.session.accountId;
    if (!accountId) return reply.redirect(loginUrl('/integrations'), 302);
    const groups: Group[] = [];
    for (const row of await listConnectedIntegrations(db, accountId)) {
      let group = groups.at(-1);
      if (group?.appId !== row.appId) {
        group = { appId: row.appId, appName: row.appName, items: [] };
        groups.push(group);
      }
      group.items.push({
        authorizationId: row.authorizationId,
        clientName: row.clientName,
        logo: row.logoUri,
        since: formatDate(reply.locals.locale, row.since),
        scopes: row.scope.split(' ').map((s) => (isScopeName(s) ? SCOPES[s] : s)),
      });
    }
    const notice = request.session.notice;
    if (notice !== undefined) request.session.notice = undefined;
    return reply.view('integrations', { groups, notice, email: request.session.email, csrfToken: reply.generateCsrf() });
  });

  // Ends the authorization: its tokens stop working at once and the partner's remove_url is notified.
  app.post('/integrations/remove', { schema: { body: RemoveForm }, preHandler: app.csrfProtection }, async (request, reply) => {
    const accountId = request.session.accountId;
    if (!accountId) throw new PageError(errorPages.forbidden);
    const owned = await findOwnedAuthorization(db, request.body.authorization_id, accountId);
    if (!owned) throw new PageError(errorPages.notOwner);
    await endAuthorizations(db, { authorizationId: owned.authorizationId }, 'owner_removed', request.id);
    app.serviceMetrics.tokensRevoked.inc({ by: 'app_owner' });
    request.log.info(
      { event: 'authorization.revoked', clientId: owned.clientId, appId: owned.appId, by: 'owner' },
      'authorization removed by app owner',
    );
    request.session.notice = reply.locals.t('integrations.removed', { client: owned.clientName, app: owned.appName });
    return reply.redirect('/integrations', 303);
  });
};

export default integrationRoutes;
