// Sign in and out: the password check, session rotation at login, and the way back to the request.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginForm, LoginQuery, LogoutForm } from '@partner-oauth/contracts';
import { type EphemeralStore, FailureThrottle } from '@partner-oauth/ephemeral-store';
import { type Clock, decoyPasswordHash, verifyPassword } from '@partner-oauth/service-kit';
import { type Db, findAccountByEmail } from '@partner-oauth/storage';
import type { AuthorizeUiConfig } from '../config.js';
import { activeClient } from '../consent-steps.js';
import { errorPages, sendErrorPage } from '../pages.js';
import { languageLinks } from '../plugins/browser.js';
import { loginUrl, safeReturnTo } from '../return-to.js';

export interface LoginRouteDeps {
  db: Db;
  store: EphemeralStore;
  clock: Clock;
  config: AuthorizeUiConfig;
}

/** The partner a sign-in continues to, when it was sent here by an authorization request ("… to continue to Shoplifter"). */
async function continuingTo(db: Db, returnTo: string): Promise<string | undefined> {
  const url = new URL(returnTo, 'http://return-to.invalid');
  if (url.pathname !== '/oauth/authorize') return undefined;
  const clientId = url.searchParams.get('client_id');
  return clientId ? (await activeClient(db, clientId))?.client_name : undefined;
}

const loginRoutes: FastifyPluginAsyncTypebox<LoginRouteDeps> = async (app, { db, store, clock, config }) => {
  // Per account, whatever the address: guessing one account's password from many places is slowed too.
  const accountThrottle = new FailureThrottle(store, 'login-account', config.LOGIN_FAILURES_PER_ACCOUNT, 15 * 60_000);
  const perAddress = { rateLimit: { max: config.LOGIN_RATE_LIMIT_PER_MINUTE, timeWindow: 60_000 } };

  app.get('/login', { schema: { querystring: LoginQuery } }, async (request, reply) => {
    const returnTo = safeReturnTo(request.query.return_to);
    const client = await continuingTo(db, returnTo);
    return reply.view('login', { returnTo, client, email: '', error: false, csrfToken: reply.generateCsrf() });
  });

  app.post('/login', { schema: { body: LoginForm }, preHandler: app.csrfProtection, config: perAddress }, async (request, reply) => {
    const { email, password } = request.body;
    const returnTo = safeReturnTo(request.body.return_to);
    const subject = email.trim().toLowerCase();
    const throttled = await accountThrottle.state(subject);
    if (throttled.blocked) {
      reply.header('retry-after', String(throttled.retryAfterSeconds));
      return sendErrorPage(reply, errorPages.tooManyAttempts);
    }
    const account = await findAccountByEmail(db, email);
    // Unknown emails cost a hash verification too, so timing does not tell which accounts exist.
    const ok = await verifyPassword(password, account?.password_hash ?? (await decoyPasswordHash()));
    if (!account || !ok) {
      request.log.info({ event: 'login.failed' }, 'login failed');
      app.serviceMetrics.loginFailures.inc();
      await accountThrottle.fail(subject);
      const client = await continuingTo(db, returnTo);
      // The language links come back to the sign-in page with its way back, not to the form's URL.
      const languages = languageLinks(reply.locals.locale, loginUrl(returnTo));
      return reply.code(401).view('login', { returnTo, client, email, error: true, languages, csrfToken: reply.generateCsrf() });
    }
    // A new session id at login defeats session fixation.
    await accountThrottle.reset(subject);
    await request.session.regenerate();
    const now = clock.now();
    request.session.accountId = account.id;
    request.session.email = account.email;
    request.session.signedInAt = now;
    request.session.lastSeen = now;
    request.log.info({ event: 'login.succeeded', accountId: account.id }, 'login succeeded');
    return reply.redirect(returnTo, 303);
  });

  app.post('/logout', { schema: { body: LogoutForm }, preHandler: app.csrfProtection }, async (request, reply) => {
    await request.session.destroy();
    return reply.redirect('/signed-out', 303);
  });

  app.get('/signed-out', async (_request, reply) => reply.view('signed-out', {}));

  app.get('/', async (request, reply) => {
    if (!request.session.accountId) return reply.redirect('/login', 302);
    return reply.view('home', { email: request.session.email, csrfToken: reply.generateCsrf() });
  });
};

export default loginRoutes;
