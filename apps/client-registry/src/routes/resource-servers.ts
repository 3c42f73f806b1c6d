// /v1/resource-servers: the credentials platform APIs introspect tokens with (RFC 7662 §2.1): create and rotate (the
// secret shown once, the old one kept for an overlap), list, revoke; stored as SHA-256, every change audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminError,
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  ResourceServer,
  ResourceServerCreateBody,
  ResourceServerList,
  ResourceServerParams,
  ResourceServerSecretShown,
  RotateBody,
} from '@partner-oauth/contracts';
import { type Clock, randomToken, sha256 } from '@partner-oauth/service-kit';
import {
  createResourceServer,
  type Db,
  findResourceServer,
  listResourceServers,
  type ResourceServerRow,
  revokeResourceServer,
  rotateResourceServerSecret,
} from '@partner-oauth/storage';
import { AdminApiError } from '../admin-api-error.js';
import { audit } from '../audit.js';
import { errors, errorsWith404 } from './clients.js';

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** The resource server as the API shows it: never a secret or its hash. */
export function toResourceServerView(row: ResourceServerRow, now: Date): ResourceServer {
  const previous = row.previous_expires_at && new Date(row.previous_expires_at) > now ? row.previous_expires_at : null;
  return {
    id: row.id,
    name: row.name,
    created_at: new Date(row.created_at).toISOString(),
    previous_secret_expires_at: iso(previous),
    revoked_at: iso(row.revoked_at),
  };
}

const notFound = () => new AdminApiError('not_found', 'resource server not found (or revoked)');

const resourceServerRoutes: FastifyPluginAsyncTypebox<{ db: Db; clock: Clock }> = async (app, { db, clock }) => {
  app.get(
    '/v1/resource-servers',
    { schema: { tags: ['resource servers'], response: { 200: ResourceServerList, ...errors } } },
    async () => {
      const at = new Date(clock.now());
      return { items: (await listResourceServers(db)).map((r) => toResourceServerView(r, at)) };
    },
  );

  app.post(
    '/v1/resource-servers',
    {
      schema: {
        tags: ['resource servers'],
        body: ResourceServerCreateBody,
        response: { 201: ResourceServerSecretShown, ...errors, 409: AdminError },
      },
    },
    async (request, reply) => {
      const id = request.body.id ?? `rs_${randomToken(9)}`;
      const secret = randomToken(32, 'pors_');
      const row = await db.transaction().execute(async (trx) => {
        if (await findResourceServer(trx, id)) throw new AdminApiError('conflict', 'id: a resource server with this id exists');
        const created = await createResourceServer(trx, { id, name: request.body.name, secretHash: sha256(secret) });
        await audit(trx, request, {
          action: 'resource_server.create',
          targetType: 'resource_server',
          targetId: id,
          after: toResourceServerView(created, new Date(clock.now())),
        });
        return created;
      });
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...toResourceServerView(row, new Date(clock.now())), secret });
    },
  );

  app.post(
    '/v1/resource-servers/:id/secret',
    {
      schema: {
        tags: ['resource servers'],
        params: ResourceServerParams,
        body: RotateBody,
        response: { 201: ResourceServerSecretShown, ...errorsWith404 },
      },
    },
    async (request, reply) => {
      const at = new Date(clock.now());
      const overlap = request.body?.old_secret_expires_in ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
      const secret = randomToken(32, 'pors_');
      const row = await db.transaction().execute(async (trx) => {
        const rotated = await rotateResourceServerSecret(trx, request.params.id, sha256(secret), new Date(at.getTime() + overlap * 1000));
        if (rotated) {
          await audit(trx, request, {
            action: 'resource_server.rotate',
            targetType: 'resource_server',
            targetId: rotated.id,
            after: toResourceServerView(rotated, at),
          });
        }
        return rotated;
      });
      if (!row) throw notFound();
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...toResourceServerView(row, at), secret });
    },
  );

  app.delete(
    '/v1/resource-servers/:id',
    { schema: { tags: ['resource servers'], params: ResourceServerParams, response: { 200: ResourceServer, ...errorsWith404 } } },
    async (request) => {
      const row = await db.transaction().execute(async (trx) => {
        const revoked = await revokeResourceServer(trx, request.params.id);
        if (revoked) {
          await audit(trx, request, {
            action: 'resource_server.revoke',
            targetType: 'resource_server',
            targetId: revoked.id,
            after: toResourceServerView(revoked, new Date(clock.now())),
          });
        }
        return revoked;
      });
      if (!row) throw notFound();
      return toResourceServerView(row, new Date(clock.now()));
    },
  );
};

export default resourceServerRoutes;
