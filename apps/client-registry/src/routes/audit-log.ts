// GET /v1/audit-log: every admin change, newest first, with cursor pagination.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditList, AuditQuery } from '@partner-oauth/contracts';
import { type Db, listAudit } from '@partner-oauth/storage';
import { AdminApiError } from '../admin-api-error.js';
import { errors } from './clients.js';

const invalid = () => new AdminApiError('invalid_request', 'cursor: is not a cursor returned by this API');

const auditRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/v1/audit-log',
    { schema: { tags: ['audit'], querystring: AuditQuery, response: { 200: AuditList, ...errors } } },
    async (request) => {
      const { target_type: targetType, target_id: targetId } = request.query;
      const limit = request.query.limit ?? 50;
      let beforeId: string | undefined;
      if (request.query.cursor !== undefined) {
        const decoded = Buffer.from(request.query.cursor, 'base64url').toString('utf8');
        if (!/^[1-9][0-9]{0,17}$/.test(decoded) || Buffer.from(decoded).toString('base64url') !== request.query.cursor) throw invalid();
        beforeId = decoded;
      }
      const rows = await listAudit(db, { limit: limit + 1, beforeId, targetType, targetId });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() })),
        next_cursor: rows.length > limit && last ? Buffer.from(last.id).toString('base64url') : null,
      };
    },
  );
};

export default auditRoutes;
