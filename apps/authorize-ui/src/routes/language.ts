// GET /language: the language switcher. Remembers the choice in a cookie and goes back to the page it came
// from (a path on this site only); a plain link, so it works without script under the CSP.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isLocale, LOCALE_COOKIE } from '../i18n/index.js';
import { safeReturnTo } from '../return-to.js';

const LanguageQuery = Type.Object({
  lang: Type.String({ maxLength: 16 }),
  return_to: Type.Optional(Type.String({ maxLength: 2048 })),
});

const ONE_YEAR_SECONDS = 365 * 86_400;

const languageRoutes: FastifyPluginAsyncTypebox<{ secureCookie: boolean }> = async (app, { secureCookie }) => {
  app.get('/language', { schema: { querystring: LanguageQuery } }, async (request, reply) => {
    const { lang, return_to } = request.query;
    // An unknown language changes nothing: the page comes back as it was.
    if (isLocale(lang)) {
      reply.setCookie(LOCALE_COOKIE, lang, { path: '/', maxAge: ONE_YEAR_SECONDS, httpOnly: true, sameSite: 'lax', secure: secureCookie });
    }
    return reply.redirect(safeReturnTo(return_to), 303);
  });
};

export default languageRoutes;
