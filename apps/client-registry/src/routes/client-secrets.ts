// Client secrets and the webhook signing secret: list, rotate with overlap, revoke; a new value is shown once.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminError,
  ClientParams,
  ClientSecret,
  ClientSecretCreated,
  ClientSecretList,
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  RotateBody,
  SecretParams,
  WebhookSecretRotated,
} from '@partner-oauth/contracts';
import { type Clock, randomToken, sha256 } from '@partner-oauth/service-kit';
import {
  type ClientSecretRow,
  type Db,
  findClient,
  findClientForUpdate,
  listClientSecrets,
  newCodeEpoch,
  revokeClientSecret,
  rotateClientSecret,
  rotateWebhookSecret,
} from '@partner-oauth/storage';
import { webhookSigningSecret } from '@partner-oauth/webhooks';
import { AdminApiError } from '../admin-api-error.js';
import { audit } from '../audit.js';
import { clientNotFound, errorsWith404 } from './clients.js';

export interface SecretRoutesOptions {
  db: Db;
  webhookSigningKey: string;
  clock: Clock;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function toSecretView(row: ClientSecretRow, now: Date): ClientSecret {
  const expired = row.expires_at !== null && new Date(row.expires_at).getTime() <= now.getTime();
  return {
    id: row.id,
    created_at: new Date(row.created_at).toISOString(),
    expires_at: iso(row.expires_at),
    revoked_at: iso(row.revoked_at),
    last_used_at: iso(row.last_used_at),
    active: row.revoked_at === null && !expired,
  };
}

const secretRoutes: FastifyPluginAsyncTypebox<SecretRoutesOptions> = async (app, { db, webhookSigningKey, clock }) => {
  app.get(
    '/v1/clients/:client_id/secrets',
    { schema: { tags: ['secrets'], params: ClientParams, response: { 200: ClientSecretList, ...errorsWith404 } } },
    async (request) => {
      const clientId = request.params.client_id;
      if (!(await findClient(db, clientId))) throw clientNotFound();
      const at = new Date(clock.now());
      return { items: (await listClientSecrets(db, clientId)).map((r) => toSecretView(r, at)) };
    },
  );

  app.post(
    '/v1/clients/:client_id/secrets',
    { schema: { tags: ['secrets'], params: ClientParams, body: RotateBody, response: { 201: ClientSecretCreated, ...errorsWith404 } } },
    async (request, reply) => {
      const clientId = request.params.client_id;
      const at = new Date(clock.now());
      const overlap = request.body?.old_secret_expires_in ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
      const oldExpiresAt = new Date(at.getTime() + overlap * 1000);
      const secret = randomToken(32, 'pocs_');
      const result = await db.transaction().execute(async (trx) => {
        if (!(await findClientForUpdate(trx, clientId))) return undefined;
        const rotated = await rotateClientSecret(trx, clientId, sha256(secret), oldExpiresAt);
        // Without overlap the old secret is taken as compromised: codes issued while it was live stop redeeming too.
        if (overlap === 0) await newCodeEpoch(trx, clientId);
        await audit(trx, request, {
          action: 'client_secret.rotate',
          targetType: 'client_secret',
          targetId: rotated.created.id,
          after: { client_id: clientId, ...toSecretView(rotated.created, at), previous_secrets_expire_at: oldExpiresAt.toISOString() },
        });
        return rotated;
      });
      if (!result) throw clientNotFound();
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...toSecretView(result.created, at), client_secret: secret, previous_secrets_expire_at: oldExpiresAt.toISOString() });
    },
  );

  app.delete(
    '/v1/clients/:client_id/secrets/:secret_id',
    { schema: { tags: ['secrets'], params: SecretParams, response: { 200: ClientSecret, ...errorsWith404, 409: AdminError } } },
    async (request) => {
      const { client_id: clientId, secret_id: secretId } = request.params;
      const at = new Date(clock.now());
      const row = await db.transaction().execute(async (trx) => {
        if (!(await findClientForUpdate(trx, clientId))) throw clientNotFound();
        const secrets = await listClientSecrets(trx, clientId);
        const target = secrets.find((s) => s.id === secretId);
        if (!target) return undefined;
        const othersLive = secrets.some((s) => s.id !== secretId && toSecretView(s, at).active);
        // Revoking the last working secret would lock the partner out with no way back but a rotation; make that explicit.
        if (toSecretView(target, at).active && !othersLive) {
          throw new AdminApiError('conflict', 'secret_id: is the client’s only working secret; rotate first, or disable the client');
        }
        const revoked = await revokeClientSecret(trx, clientId, secretId);
        if (revoked) {
          await audit(trx, request, {
            action: 'client_secret.revoke',
            targetType: 'client_secret',
            targetId: secretId,
            before: { client_id: clientId, ...toSecretView(target, at) },
            after: { client_id: clientId, ...toSecretView(revoked, at) },
          });
        }
        return revoked;
      });
      if (!row) throw new AdminApiError('not_found', 'secret not found');
      return toSecretView(row, at);
    },
  );

  app.post(
    '/v1/clients/:client_id/webhook-secret',
    {
      schema: { tags: ['secrets'], params: ClientParams, body: RotateBody, response: { 201: WebhookSecretRotated, ...errorsWith404 } },
    },
    async (request, reply) => {
      const clientId = request.params.client_id;
      const at = new Date(clock.now());
      const overlap = request.body?.old_secret_expires_in ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
      const previousExpiresAt = new Date(at.getTime() + overlap * 1000);
      const row = await db.transaction().execute(async (trx) => {
        const current = await findClientForUpdate(trx, clientId);
        if (!current) return undefined;
        const rotated = await rotateWebhookSecret(trx, clientId, previousExpiresAt);
        if (!rotated) return undefined;
        await audit(trx, request, {
          action: 'webhook_secret.rotate',
          targetType: 'webhook_secret',
          targetId: clientId,
          before: { webhook_secret_version: current.webhook_secret_version },
          after: { webhook_secret_version: rotated.webhook_secret_version, previous_secret_expires_at: previousExpiresAt.toISOString() },
        });
        return rotated;
      });
      if (!row) throw clientNotFound();
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          webhook_secret: webhookSigningSecret(webhookSigningKey, clientId, row.webhook_secret_version),
          webhook_secret_version: row.webhook_secret_version,
          previous_secret_expires_at: overlap === 0 ? null : previousExpiresAt.toISOString(),
        });
    },
  );
};

export default secretRoutes;
