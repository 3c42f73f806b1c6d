// /integrations: app owners see which partners can act on their apps (who allowed each, since when, when last
// used) and remove them, through a confirmation page (server-rendered: the CSP allows no script) and a CSRF-checked form.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isScopeName } from '@partner-oauth/contracts';
import { type Db, endAuthorizations, findOwnedAuthorization, listConnectedIntegrations } from '@partner-oauth/storage';
import { Type } from 'typebox';
import { formatDate, formatDateTime } from '../i18n/index.js';
import { errorPages, PageError } from '../pages.js';
import { loginUrl } from '../return-to.js';

const RemoveQuery = Type.Object({
  authorization_id: Type.String({ minLength: 1, maxLength: 64 }),
});

const RemoveForm = Type.Object({
  _csrf: Type.Optional(Type.String({ maxLength: 256 })),
  authorization_id: Type.String({ minLength: 1, maxLength: 64 }),
});

interface Group {
  appId: string;
  appName: string;
  items: {
    authorizationId: string;
    clientName: string;
    logo: string | null;
    since: string;
    grantedBy: string;
    lastUsed: string | null;
    scopes: string[];
  }[];
}

const integrationRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/integrations', async (request, reply) => {
    const accountId = request.session.accountId;
    if (!accountId) return reply.redirect(loginUrl('/integrations'), 302);
    const { locale, t } = reply.locals;
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
        since: formatDate(locale, row.since),
        grantedBy: row.grantedBy,
        lastUsed: row.lastUsed && formatDateTime(locale, row.lastUsed),
        scopes: row.scope.split(' ').map((s) => (isScopeName(s) ? t(`scope.${s}`) : s)),
      });
    }
    const notice = request.session.notice;
    if (notice !== undefined) request.session.notice = undefined;
    return reply.view('integrations', { groups, notice, email: request.session.email, csrfToken: reply.generateCsrf() });
  });

  // The confirmation step: nothing changes until its form is posted.
  app.get('/integrations/remove', { schema: { querystring: RemoveQuery } }, async (request, reply) => {
    const accountId = request.session.accountId;
    if (!accountId) return reply.redirect(loginUrl('/integrations'), 302);
    const owned = await findOwnedAuthorization(db, request.query.authorization_id, accountId);
    if (!owned) throw new PageError(errorPages.notOwner);
    return reply.view('remove', {
      authorizationId: owned.authorizationId,
      clientName: owned.clientName,
      appName: owned.appName,
      email: request.session.email,
      csrfToken: reply.generateCsrf(),
    });
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
