// /v1/clients: register, list, read and update partner OAuth clients (field names after RFC 7591 §2).
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
} from '@partner-oauth/contracts';
import { randomToken, sha256 } from '@partner-oauth/service-kit';
import { createClient, type Db, findClient, listClients, newClientId, toClientView, updateClient } from '@partner-oauth/storage';
import { AdminApiError } from '../errors.js';
import { assertClientUrls, assertRedirectUris } from './client-metadata.js';
import { decodeCursor, encodeCursor, invalidCursor } from './cursor.js';

export interface ClientRoutesOptions {
  db: Db;
}

const DEFAULT_PAGE_SIZE = 50;

/** Every error status a route can answer, so error bodies are serialized through the same contract. */
const errors = { 400: AdminError, 401: AdminError, 500: AdminError } as const;
const errorsWith404 = { ...errors, 404: AdminError } as const;

const notFound = (): AdminApiError => new AdminApiError('not_found', 'client not found');

export const clientRoutes: FastifyPluginAsyncTypebox<ClientRoutesOptions> = async (app, { db }) => {
  app.post('/v1/clients', { schema: { body: ClientCreateBody, response: { 201: ClientCreated, ...errors } } }, async (request, reply) => {
    const body = request.body;
    assertRedirectUris(body.redirect_uris);
    assertClientUrls(body);
    const secret = randomToken(32, 'pocs_');
    const row = await createClient(
      db,
      {
        client_id: newClientId(),
        client_name: body.client_name,
        description: body.description,
        client_uri: body.client_uri,
        logo_uri: body.logo_uri,
        redirect_uris: body.redirect_uris,
      },
      sha256(secret),
    );
    // The only time the secret exists in clear outside the caller: it is stored as its SHA-256.
    return reply
      .code(201)
      .header('location', `/v1/clients/${encodeURIComponent(row.client_id)}`)
      .header('cache-control', 'no-store')
      .send({ ...toClientView(row), client_secret: secret });
  });

  app.get('/v1/clients', { schema: { querystring: ClientListQuery, response: { 200: ClientList, ...errors } } }, async (request) => {
    const limit = request.query.limit ?? DEFAULT_PAGE_SIZE;
    const afterId = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
    // A cursor naming a client that no longer exists cannot be resumed from; say so rather than return an empty page.
    if (afterId !== undefined && !(await findClient(db, afterId))) throw invalidCursor();
    // One extra row tells whether another page exists without a count query.
    const rows = await listClients(db, { limit: limit + 1, afterId });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toClientView),
      next_cursor: rows.length > limit && last ? encodeCursor(last.client_id) : null,
    };
  });

  app.get('/v1/clients/:client_id', { schema: { params: ClientParams, response: { 200: Client, ...errorsWith404 } } }, async (request) => {
    const row = await findClient(db, request.params.client_id);
    if (!row) throw notFound();
    return toClientView(row);
  });

  app.patch(
    '/v1/clients/:client_id',
    { schema: { params: ClientParams, body: ClientUpdateBody, response: { 200: Client, ...errorsWith404 } } },
    async (request) => {
      const body = request.body;
      if (body.redirect_uris !== undefined) assertRedirectUris(body.redirect_uris);
      assertClientUrls(body);
      const row = await updateClient(db, request.params.client_id, {
        client_name: body.client_name,
        description: body.description,
        client_uri: body.client_uri,
        logo_uri: body.logo_uri,
        redirect_uris: body.redirect_uris,
        status: body.status,
      });
      if (!row) throw notFound();
      return toClientView(row);
    },
  );
};
