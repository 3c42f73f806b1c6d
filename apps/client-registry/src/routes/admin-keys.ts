// /v1/admin-keys: list, create (full or read-only, the value shown once) and revoke admin API keys, each change audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminKey, AdminKeyCreateBody, AdminKeyCreated, AdminKeyList, AdminKeyParams } from '@partner-oauth/contracts';
import { randomToken, sha256 } from '@partner-oauth/service-kit';
import { type AdminKeyRow, createAdminKey, type Db, listAdminKeys, revokeAdminKeyById } from '@partner-oauth/storage';
import { AdminApiError } from '../admin-api-error.js';
import { audit } from '../audit.js';
import { errors, errorsWith404 } from './clients.js';

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** The key as the API shows it: never its value, nor its hash. */
export function toAdminKeyView(row: AdminKeyRow): AdminKey {
  return {
    id: row.id,
    name: row.name,
    access: row.access,
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
  };
}

const adminKeyRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/v1/admin-keys', { schema: { tags: ['admin keys'], response: { 200: AdminKeyList, ...errors } } }, async () => ({
    items: (await listAdminKeys(db)).map(toAdminKeyView),
  }));

  app.post(
    '/v1/admin-keys',
    { schema: { tags: ['admin keys'], body: AdminKeyCreateBody, response: { 201: AdminKeyCreated, ...errors } } },
    async (request, reply) => {
      const key = randomToken(32, 'poak_');
      const row = await db.transaction().execute(async (trx) => {
        const created = await createAdminKey(trx, { name: request.body.name, keyHash: sha256(key), access: request.body.access ?? 'full' });
        await audit(trx, request, {
          action: 'admin_key.create',
          targetType: 'admin_key',
          targetId: created.id,
          after: toAdminKeyView(created),
        });
        return created;
      });
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...toAdminKeyView(row), admin_key: key });
    },
  );

  app.delete(
    '/v1/admin-keys/:key_id',
    { schema: { tags: ['admin keys'], params: AdminKeyParams, response: { 200: AdminKey, ...errorsWith404 } } },
    async (request) => {
      const row = await db.transaction().execute(async (trx) => {
        const revoked = await revokeAdminKeyById(trx, request.params.key_id);
        if (revoked) {
          await audit(trx, request, {
            action: 'admin_key.revoke',
            targetType: 'admin_key',
            targetId: revoked.id,
            after: toAdminKeyView(revoked),
          });
        }
        return revoked;
      });
      if (!row) throw new AdminApiError('not_found', 'admin key not found (or already revoked)');
      return toAdminKeyView(row);
    },
  );
};

export default adminKeyRoutes;
