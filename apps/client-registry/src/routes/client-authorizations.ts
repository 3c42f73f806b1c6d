// Which apps have installed a client (its live authorizations), and ending one of them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuthorizationParams, ClientAuthorizationList, ClientParams, PageQuery } from '@partner-oauth/contracts';
import { type Db, endAuthorizations, findClient, findClientAuthorization, listClientAuthorizations } from '@partner-oauth/storage';
import { Type } from 'typebox';
import { AdminApiError } from '../admin-api-error.js';
import { audit } from '../audit.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../cursor.js';
import { clientNotFound, errorsWith404 } from './clients.js';

const authorizationRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/v1/clients/:client_id/authorizations',
    {
      schema: {
        tags: ['authorizations'],
        params: ClientParams,
        querystring: PageQuery,
        response: { 200: ClientAuthorizationList, ...errorsWith404 },
      },
    },
    async (request) => {
      const clientId = request.params.client_id;
      if (!(await findClient(db, clientId))) throw clientNotFound();
      const limit = request.query.limit ?? 50;
      const afterId = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
      if (afterId !== undefined && !(await findClientAuthorization(db, clientId, afterId))) throw invalidCursor();
      const rows = await listClientAuthorizations(db, clientId, { limit: limit + 1, afterId });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => ({ ...r, granted_at: new Date(r.granted_at).toISOString() })),
        next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null,
      };
    },
  );

  app.delete(
    '/v1/clients/:client_id/authorizations/:authorization_id',
    { schema: { tags: ['authorizations'], params: AuthorizationParams, response: { 204: Type.Null(), ...errorsWith404 } } },
    async (request, reply) => {
      const { client_id: clientId, authorization_id: authorizationId } = request.params;
      if (!(await findClient(db, clientId))) throw clientNotFound();
      const found = await findClientAuthorization(db, clientId, authorizationId);
      if (!found) throw new AdminApiError('not_found', 'authorization not found');
      const ended = await endAuthorizations(db, { authorizationId }, 'admin_removed', request.id);
      // Two admins ending the same one: the second finds nothing left to end.
      if (ended.length === 0) throw new AdminApiError('not_found', 'authorization not found');
      await audit(db, request, {
        action: 'authorization.end',
        targetType: 'authorization',
        targetId: authorizationId,
        before: { client_id: clientId, app_id: found.app_id, scope: found.scope },
      });
      return reply.code(204).send(null);
    },
  );
};

export default authorizationRoutes;
