// What the browser side stands on: forms, cookies, server-side sessions, CSRF tokens, templates, security headers.
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import session from '@fastify/session';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import { type EphemeralStore, SessionStore } from '@partner-oauth/ephemeral-store';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type AuthorizeUiConfig, servedOverTls } from '../config.js';

declare module 'fastify' {
  interface Session {
    accountId?: string;
    email?: string;
  }
}

export const viewsDir = fileURLToPath(new URL('../../views/', import.meta.url));
const publicDir = fileURLToPath(new URL('../../public/', import.meta.url));

export default fp(
  async function browser(app: FastifyInstance, opts: { config: AuthorizeUiConfig; store: EphemeralStore }) {
    const { config } = opts;
    const tls = servedOverTls(config);
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'https:', 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      hsts: tls ? { maxAge: 31_536_000 } : false,
      crossOriginEmbedderPolicy: false,
    });
    await app.register(formbody, { bodyLimit: 16 * 1024 });
    await app.register(cookie);
    await app.register(session, {
      secret: config.SESSION_SECRET,
      cookieName: tls ? '__Host-sid' : 'sid',
      cookie: { httpOnly: true, sameSite: 'lax', secure: tls, path: '/', maxAge: config.SESSION_IDLE_SECONDS * 1000 },
      saveUninitialized: false,
      rolling: true,
      store: new SessionStore(opts.store, config.SESSION_IDLE_SECONDS * 1000),
    });
    await app.register(csrf, { sessionPlugin: '@fastify/session', getToken: (req) => (req.body as { _csrf?: string } | undefined)?._csrf });
    await app.register(view, {
      engine: { eta: new Eta({ autoEscape: true, autoTrim: false }) },
      templates: viewsDir,
      production: config.NODE_ENV !== 'development',
      defaultContext: { issuer: config.ISSUER },
    });
    await app.register(fastifyStatic, { root: publicDir, prefix: '/static/', index: false, maxAge: '1h' });
    // Pages carry identities and one-time form tokens: never cache them.
    app.addHook('onSend', async (request, reply) => {
      if (!request.url.startsWith('/static/')) reply.header('cache-control', 'no-store');
    });
  },
  { name: 'browser' },
);
