// /v1/clients: register, list, read, update and delete partner OAuth clients (field names after RFC 7591 §2).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminError,
  Client,
  ClientCreateBody,
  ClientCreated,
  ClientList,
  ClientListQuery,
  ClientParams,
  ClientUpdateBody,
  formatScope,
  IfMatchHeaders,
  TOKEN_LIFETIMES,
} from '@partner-oauth/contracts';
import { randomToken, sha256 } from '@partner-oauth/service-kit';
import {
  createClient,
  type Db,
  deleteClient,
  endAuthorizations,
  endWithin,
  findClient,
  findClientForUpdate,
  listClients,
  newClientId,
  newCodeEpoch,
  updateClient,
} from '@partner-oauth/storage';
import { webhookSigningSecret } from '@partner-oauth/webhooks';
import { Type } from 'typebox';
import { AdminApiError } from '../admin-api-error.js';
import { audit } from '../audit.js';
import {
  assertClientUrls,
  assertDefaultWithinAllowed,
  assertRedirectUris,
  assertRemoveUrl,
  assertTokenLifetimes,
  parseAllowedScopes,
  parseDefaultScope,
} from '../client-metadata.js';
import { toClientView } from '../client-view.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../cursor.js';
import { assertIfMatch, etagOf } from '../preconditions.js';

export interface ClientRoutesOptions {
  db: Db;
  /** Derives each client's webhook secret, shown once at creation. */
  webhookSigningKey: string;
  /** WEBHOOK_ALLOW_LOOPBACK as it applies: whether remove_url may name this machine (development). */
  allowLoopbackRemoveUrl: boolean;
}

const DEFAULT_PAGE_SIZE = 50;

/** What a client registered without `scope` may ask for: the least a partner integration can do. */
const DEFAULT_ALLOWED_SCOPES = ['app:read'];

/** Every error status a route can answer, so error bodies are serialized through the same contract. */
export const errors = { 400: AdminError, 401: AdminError, 403: AdminError, 500: AdminError } as const;
export const errorsWith404 = { ...errors, 404: AdminError } as const;
const preconditionErrors = { ...errorsWith404, 412: AdminError, 428: AdminError } as const;

export const clientNotFound = (): AdminApiError => new AdminApiError('not_found', 'client not found');

/**
 * Disabling is a kill switch, not a pause: every authorization ends with its tokens (the partner is notified),
 * and a new code epoch voids the codes in flight, so re-enabling revives nothing: owners consent again.
 */
async function killSwitch(trx: Db, clientId: string, requestId: string): Promise<void> {
  await endWithin(trx, { clientId }, 'admin_removed', requestId);
  await newCodeEpoch(trx, clientId);
}

const clientRoutes: FastifyPluginAsyncTypebox<ClientRoutesOptions> = async (app, { db, webhookSigningKey, allowLoopbackRemoveUrl }) => {
  app.post(
    '/v1/clients',
    { schema: { tags: ['clients'], body: ClientCreateBody, response: { 201: ClientCreated, ...errors } } },
    async (request, reply) => {
      const body = request.body;
      assertRedirectUris(body.redirect_uris);
      assertClientUrls(body);
      assertRemoveUrl(body.remove_url, { allowLoopback: allowLoopbackRemoveUrl });
      const allowed = body.scope === undefined ? DEFAULT_ALLOWED_SCOPES : parseAllowedScopes(body.scope);
      const defaults = body.default_scope === undefined ? allowed : parseDefaultScope(body.default_scope, allowed);
      assertTokenLifetimes(
        body.refresh_token_idle_lifetime ?? TOKEN_LIFETIMES.refresh_token_idle_lifetime.default,
        body.refresh_token_absolute_lifetime ?? TOKEN_LIFETIMES.refresh_token_absolute_lifetime.default,
      );
      const secret = randomToken(32, 'pocs_');
      const row = await db.transaction().execute(async (trx) => {
        const created = await createClient(
          trx,
          {
            client_id: newClientId(),
            client_name: body.client_name,
            description: body.description,
            client_uri: body.client_uri,
            logo_uri: body.logo_uri,
            policy_uri: body.policy_uri,
            tos_uri: body.tos_uri,
            redirect_uris: body.redirect_uris,
            allowed_scopes: allowed,
            default_scope: formatScope(defaults),
            require_pkce: body.require_pkce,
            remove_url: body.remove_url,
            expiring_tokens: body.expiring_tokens,
            access_token_lifetime: body.access_token_lifetime,
            refresh_token_idle_lifetime: body.refresh_token_idle_lifetime,
            refresh_token_absolute_lifetime: body.refresh_token_absolute_lifetime,
          },
          sha256(secret),
        );
        await audit(trx, request, {
          action: 'client.create',
          targetType: 'client',
          targetId: created.client_id,
          after: toClientView(created),
        });
        return created;
      });
      // The only time the secrets exist in clear outside the caller: the client secret is stored as its SHA-256,
      // the webhook secret not at all (it is derived from the signing key whenever a notification is signed).
      const webhookSecret = webhookSigningSecret(webhookSigningKey, row.client_id, row.webhook_secret_version);
      return reply
        .code(201)
        .header('location', `/v1/clients/${encodeURIComponent(row.client_id)}`)
        .header('etag', etagOf(row))
        .header('cache-control', 'no-store')
        .send({ ...toClientView(row), client_secret: secret, webhook_secret: webhookSecret });
    },
  );

  app.get(
    '/v1/clients',
    { schema: { tags: ['clients'], querystring: ClientListQuery, response: { 200: ClientList, ...errors } } },
    async (request) => {
      const { status, client_name } = request.query;
      const limit = request.query.limit ?? DEFAULT_PAGE_SIZE;
      const afterId = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
      // A cursor naming a client that no longer exists cannot be resumed from; say so rather than return an empty page.
      if (afterId !== undefined && !(await findClient(db, afterId))) throw invalidCursor();
      // One extra row tells whether another page exists without a count query.
      const rows = await listClients(db, { limit: limit + 1, afterId, status, name: client_name });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toClientView),
        next_cursor: rows.length > limit && last ? encodeCursor(last.client_id) : null,
      };
    },
  );

  app.get(
    '/v1/clients/:client_id',
    { schema: { tags: ['clients'], params: ClientParams, response: { 200: Client, ...errorsWith404 } } },
    async (request, reply) => {
      const row = await findClient(db, request.params.client_id);
      if (!row) throw clientNotFound();
      return reply.header('etag', etagOf(row)).send(toClientView(row));
    },
  );

  app.patch(
    '/v1/clients/:client_id',
    {
      schema: {
        tags: ['clients'],
        params: ClientParams,
        headers: IfMatchHeaders,
        body: ClientUpdateBody,
        response: { 200: Client, ...preconditionErrors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.redirect_uris !== undefined) assertRedirectUris(body.redirect_uris);
      assertClientUrls(body);
      assertRemoveUrl(body.remove_url, { allowLoopback: allowLoopbackRemoveUrl });
      const allowed = body.scope === undefined ? undefined : parseAllowedScopes(body.scope);
      const clientId = request.params.client_id;
      // Locked read then write: the If-Match check and the scope rules see the row the update replaces.
      const row = await db.transaction().execute(async (trx) => {
        const current = await findClientForUpdate(trx, clientId);
        if (!current) return undefined;
        assertIfMatch(request.headers['if-match'], current);
        let defaults: string[] | undefined;
        if (body.default_scope !== undefined) {
          defaults = parseDefaultScope(body.default_scope, allowed ?? current.allowed_scopes);
        } else if (allowed !== undefined) {
          // Shrinking the allowed scopes must not silently shrink what requests without a scope get: ask for a new default.
          const stored = current.default_scope.split(' ').filter((t) => t !== '');
          assertDefaultWithinAllowed(stored, allowed, 'default_scope: give a new one; the current one names scopes no longer allowed:');
        }
        assertTokenLifetimes(
          body.refresh_token_idle_lifetime ?? current.refresh_token_idle_lifetime,
          body.refresh_token_absolute_lifetime ?? current.refresh_token_absolute_lifetime,
        );
        const updated = await updateClient(trx, clientId, {
          client_name: body.client_name,
          description: body.description,
          client_uri: body.client_uri,
          logo_uri: body.logo_uri,
          policy_uri: body.policy_uri,
          tos_uri: body.tos_uri,
          redirect_uris: body.redirect_uris,
          status: body.status,
          allowed_scopes: allowed,
          default_scope: defaults === undefined ? undefined : formatScope(defaults),
          require_pkce: body.require_pkce,
          remove_url: body.remove_url,
          // Applies to tokens issued from now on; tokens already issued keep the terms they were issued with.
          expiring_tokens: body.expiring_tokens,
          access_token_lifetime: body.access_token_lifetime,
          refresh_token_idle_lifetime: body.refresh_token_idle_lifetime,
          refresh_token_absolute_lifetime: body.refresh_token_absolute_lifetime,
        });
        if (!updated) return undefined;
        if (body.status === 'disabled' && current.status !== 'disabled') await killSwitch(trx, clientId, request.id);
        const action =
          body.status !== undefined && body.status !== current.status
            ? `client.${body.status === 'active' ? 'enable' : 'disable'}`
            : 'client.update';
        await audit(trx, request, {
          action,
          targetType: 'client',
          targetId: clientId,
          before: toClientView(current),
          after: toClientView(updated),
        });
        return updated;
      });
      if (!row) throw clientNotFound();
      return reply.header('etag', etagOf(row)).send(toClientView(row));
    },
  );

  app.delete(
    '/v1/clients/:client_id',
    {
      schema: {
        tags: ['clients'],
        params: ClientParams,
        headers: IfMatchHeaders,
        response: { 204: Type.Null(), ...preconditionErrors },
      },
    },
    async (request, reply) => {
      const clientId = request.params.client_id;
      // First disabled, so no new flow, code or token can start while the client is being taken apart.
      const before = await db.transaction().execute(async (trx) => {
        const current = await findClientForUpdate(trx, clientId);
        if (!current) return undefined;
        assertIfMatch(request.headers['if-match'], current);
        if (current.status !== 'disabled') await updateClient(trx, clientId, { status: 'disabled' });
        return current;
      });
      if (!before) throw clientNotFound();
      // Ended before the delete: the notices are queued while remove_url is still readable, and the outbox rows
      // (no foreign key) outlive the cascade that takes the authorizations and tokens.
      const ended = await endAuthorizations(db, { clientId }, 'client_deleted', request.id);
      const found = await db.transaction().execute(async (trx) => {
        if (!(await deleteClient(trx, clientId))) return false;
        await audit(trx, request, {
          action: 'client.delete',
          targetType: 'client',
          targetId: clientId,
          before: toClientView(before),
          after: { ended_authorizations: ended.length },
        });
        return true;
      });
      if (!found) throw clientNotFound();
      return reply.code(204).send(null);
    },
  );
};

export default clientRoutes;
