// What the browser side stands on: forms, cookies, server-side sessions, CSRF tokens, templates, security headers.
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import session from '@fastify/session';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import { isValidHost } from '@partner-oauth/contracts';
import { type EphemeralStore, RedisStore, SessionStore } from '@partner-oauth/ephemeral-store';
import type { Clock } from '@partner-oauth/service-kit';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import { type AuthorizeUiConfig, servedOverTls } from '../config.js';
import {
  catalogues,
  chooseLocale,
  LOCALE_COOKIE,
  linkTranslator,
  type Translate,
  type TranslateWithLink,
  translator,
} from '../i18n/index.js';

declare module 'fastify' {
  interface FastifyReply {
    /** Given to every template: the page's language, its translators, and the language switcher's links. */
    locals: PageLocals;
  }
  interface Session {
    accountId?: string;
    email?: string;
    /** When the account signed in (ms): the absolute limit counts from here. */
    signedInAt?: number;
    /** Last activity (ms), refreshed at most once a minute: the idle limit counts from here. */
    lastSeen?: number;
    /** A one-time notice for the next page (e.g. an integration removed). */
    notice?: string;
  }
}

export interface PageLocals {
  locale: string;
  t: Translate;
  tLink: TranslateWithLink;
  languages: { code: string; name: string; href: string; current: boolean }[];
}

/** The language switcher: a link per language that sets the cookie and comes back to `here` (a path on this site). */
export function languageLinks(locale: string, here: string): PageLocals['languages'] {
  return Object.entries(catalogues).map(([code, catalogue]) => ({
    code,
    name: catalogue.languageName,
    href: `/language?${new URLSearchParams({ lang: code, return_to: here }).toString()}`,
    current: code === locale,
  }));
}

/**
 * The language of a request's page (the switcher's cookie, else Accept-Language) and the switcher's links,
 * which come back to the page (a GET; after a form, the account page).
 */
export function pageLocals(request: FastifyRequest): PageLocals {
  const locale = chooseLocale(request.cookies?.[LOCALE_COOKIE], request.headers['accept-language']);
  const t = translator(locale);
  const here = request.method === 'GET' && request.url.length <= 1024 ? request.url : '/';
  return { locale, t, tLink: linkTranslator(t), languages: languageLinks(locale, here) };
}

const TOUCH_EVERY_MS = 60_000;

const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'https:', 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * The CSP source for a redirect URI, built from its parsed parts only: `scheme://host[:port]` for a web
 * URI whose host is valid, the scheme alone for a private-use one (RFC 8252 §7.1), else null (nothing
 * added). A source is never copied from the registered text, so no `;` or quote can reach the header.
 */
export function formTargetSource(redirectUri: string): string | null {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return null;
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    if (!isValidHost(url.hostname)) return null;
    return `${url.protocol}//${url.hostname}${url.port ? `:${url.port}` : ''}`;
  }
  return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : null;
}

/**
 * The page's CSP with `origin` added to form-action: browsers apply form-action to the redirect that
 * answers a form, so the consent form must be allowed to end at the partner's redirect URI.
 */
export function cspAllowingFormTarget(origin: string | null): string {
  const directives: Record<string, string[]> = { ...CSP_DIRECTIVES, formAction: origin ? ["'self'", origin] : ["'self'"] };
  return Object.entries(directives)
    .map(([name, values]) => `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${values.join(' ')}`)
    .join(';');
}

export const viewsDir = fileURLToPath(new URL('../../views/', import.meta.url));
const publicDir = fileURLToPath(new URL('../../public/', import.meta.url));

export default fp(
  async function browser(app: FastifyInstance, opts: { config: AuthorizeUiConfig; store: EphemeralStore; clock: Clock }) {
    const { config } = opts;
    const tls = servedOverTls(config);
    // The security headers, by helmet's own middleware built once: @fastify/helmet built it again (options parsed, CSP
    // directives checked and joined) on every request (docs/performance.md). Same options, same headers.
    const securityHeaders = helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      hsts: tls ? { maxAge: 31_536_000 } : false,
      crossOriginEmbedderPolicy: false,
    });
    app.addHook('onRequest', (request, reply, done) => {
      securityHeaders(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined));
    });
    await app.register(formbody, { bodyLimit: 16 * 1024 });
    await app.register(cookie);
    await app.register(session, {
      secret: config.SESSION_SECRET,
      cookieName: tls ? '__Host-sid' : 'sid',
      cookie: { httpOnly: true, sameSite: 'lax', secure: tls, path: '/', maxAge: config.SESSION_IDLE_SECONDS * 1000 },
      saveUninitialized: false,
      // Written (store TTL and cookie renewed) only when the session changes, not on every page: the hook below moves
      // lastSeen once a minute of use, and the idle limit is counted from lastSeen, so every path ends a session at the
      // same moment as when each page rewrote it (one Redis write and a cookie fewer per page; docs/performance.md).
      rolling: false,
      store: new SessionStore(opts.store, config.SESSION_IDLE_SECONDS * 1000),
    });
    // Idle and absolute session limits, on the injected clock; an expired session is destroyed, not trusted, and the
    // request goes on with a fresh empty one under a new id (destroy() alone would leave no session for the handler).
    app.addHook('preHandler', async (request) => {
      const session = request.session;
      if (!session.accountId) return;
      const now = opts.clock.now();
      const idle = now - (session.lastSeen ?? 0) > config.SESSION_IDLE_SECONDS * 1000;
      const tooOld = now - (session.signedInAt ?? 0) > config.SESSION_ABSOLUTE_SECONDS * 1000;
      if (idle || tooOld) {
        await session.regenerate();
        return;
      }
      if (now - (session.lastSeen ?? 0) > TOUCH_EVERY_MS) session.lastSeen = now;
    });
    await app.register(rateLimit, {
      global: false,
      ...(opts.store instanceof RedisStore ? { redis: opts.store.redis, nameSpace: 'ratelimit:' } : {}),
    });
    await app.register(csrf, { sessionPlugin: '@fastify/session', getToken: (req) => (req.body as { _csrf?: string } | undefined)?._csrf });
    await app.register(view, {
      engine: { eta: new Eta({ autoEscape: true, autoTrim: false }) },
      templates: viewsDir,
      production: config.NODE_ENV !== 'development',
      defaultContext: { issuer: config.ISSUER, product: { name: config.PRODUCT_NAME, logo: config.PRODUCT_LOGO } },
    });
    // Every page speaks the chosen or the browser's language, decided once per request.
    app.addHook('onRequest', async (request, reply) => {
      reply.locals = pageLocals(request);
    });
    await app.register(fastifyStatic, { root: publicDir, prefix: '/static/', index: false, maxAge: '1h' });
    // Pages carry identities and one-time form tokens: never cache them.
    app.addHook('onSend', async (request, reply) => {
      if (!request.url.startsWith('/static/')) reply.header('cache-control', 'no-store');
      // Static files (the "Add to …" button images) are embedded by partners' sites.
      else reply.header('cross-origin-resource-policy', 'cross-origin');
    });
  },
  { name: 'browser' },
);
