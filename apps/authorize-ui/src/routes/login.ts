// Sign in and out: the password check, session rotation at login, and the way back to the request.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginForm, LoginQuery, LogoutForm } from '@partner-oauth/contracts';
import { decoyPasswordHash, verifyPassword } from '@partner-oauth/service-kit';
import { type Db, findAccountByEmail } from '@partner-oauth/storage';
import { safeReturnTo } from '../return-to.js';

const loginRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/login', { schema: { querystring: LoginQuery } }, async (request, reply) => {
    const returnTo = safeReturnTo(request.query.return_to);
    return reply.view('login', { returnTo, email: '', error: null, csrfToken: reply.generateCsrf() });
  });

  app.post('/login', { schema: { body: LoginForm }, preHandler: app.csrfProtection }, async (request, reply) => {
    const { email, password } = request.body;
    const returnTo = safeReturnTo(request.body.return_to);
    const account = await findAccountByEmail(db, email);
    // Unknown emails cost a hash verification too, so timing does not tell which accounts exist.
    const ok = await verifyPassword(password, account?.password_hash ?? (await decoyPasswordHash()));
    if (!account || !ok) {
      request.log.info({ event: 'login.failed' }, 'login failed');
      return reply.code(401).view('login', { returnTo, email, error: 'Email or password is incorrect.', csrfToken: reply.generateCsrf() });
    }
    // A new session id at login defeats session fixation.
    await request.session.regenerate();
    request.session.accountId = account.id;
    request.session.email = account.email;
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
