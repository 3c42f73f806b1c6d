// GET /v1/clients/:id/button: the spec's "Add to …" snippet for this client, pointing at this deployment.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClientParams } from '@partner-oauth/contracts';
import { escapeHtml } from '@partner-oauth/service-kit';
import { type Db, findClient } from '@partner-oauth/storage';
import { Type } from 'typebox';
import { clientNotFound, errorsWith404 } from './clients.js';

/** The snippet of the spec, with this deployment's authorize URL and images served by authorize-ui (no CDN). */
export function buttonSnippet(issuer: string, clientId: string): string {
  const base = issuer.replace(/\/+$/, '');
  const href = escapeHtml(`${base}/oauth/authorize?client_id=${encodeURIComponent(clientId)}&response_type=code`);
  const img1 = escapeHtml(`${base}/static/add_to_button.png`);
  const img2 = escapeHtml(`${base}/static/add_to_button@2x.png`);
  return `<a href="${href}"><img alt="Add to Smooch" height="40" width="165" src="${img1}" srcset="${img1} 1x, ${img2} 2x"/></a>`;
}

const buttonRoutes: FastifyPluginAsyncTypebox<{ db: Db; issuer: string }> = async (app, { db, issuer }) => {
  app.get(
    '/v1/clients/:client_id/button',
    {
      schema: {
        tags: ['clients'],
        params: ClientParams,
        response: { 200: Type.String({ description: 'text/html snippet' }), ...errorsWith404 },
      },
    },
    async (request, reply) => {
      const row = await findClient(db, request.params.client_id);
      if (!row) throw clientNotFound();
      return reply.type('text/html; charset=utf-8').send(buttonSnippet(issuer, row.client_id));
    },
  );
};

export default buttonRoutes;
