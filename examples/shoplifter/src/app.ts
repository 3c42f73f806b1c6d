// Shoplifter, a partner site written the way docs/partner-guide.md ("Your first integration") tells it, step by step:
// the button with `state`, the callback's checks (RFC 6749 §10.12, RFC 9207), the code exchange (§4.1.3),
// `/v2/tokenInfo` before claiming a connection, and the signed removal notice on its remove_url (/removed).
// Run as a client with expiring tokens (CLIENT_ID=shoplifter-rotating), it also refreshes its token before it expires
// (RFC 6749 §6), one refresh at a time per connection, and shows when the current token expires.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import { verifyWebhookSignature } from '@partner-oauth/webhooks/verify';
import Fastify, { type FastifyInstance } from 'fastify';

export interface ShoplifterConfig {
  /** The platform's authorize endpoint, e.g. http://localhost:3000/oauth/authorize */
  authorizeUrl: string;
  /** The platform's token endpoint, e.g. http://localhost:3001/oauth/token; token info and revoke live beside it. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** The webhook signing secret (`whsec_…`) the registry showed with the client: it signs the removal notices. */
  webhookSecret: string;
}

interface Connection {
  token: string;
  appId: string;
  appName: string;
  /** Only for a client with expiring tokens: the rotating refresh token and when the access token expires (ms). */
  refreshToken?: string;
  expiresAt?: number;
  lifetimeMs?: number;
  /** The refresh in flight: a second one with the same token would be a reuse, and end the connection. */
  refreshing?: Promise<boolean>;
  /** The next refresh, set for shortly before the access token expires. */
  timer?: NodeJS.Timeout;
}

interface TokenAnswer {
  access_token: string;
  expires_in?: number;
  refresh_token?: string;
}

/** Refresh once this little of the token's life is left: a minute, or half the lifetime when that is shorter. */
const refreshMargin = (lifetimeMs: number) => Math.min(60_000, lifetimeMs / 2);

/** The body of a removal notice (README "Removal notifications"). */
interface RemovalNotice {
  type: string;
  id: string;
  client_id: string;
  app_id: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Shoplifter</title><link rel="stylesheet" href="/style.css"></head>
<body><header><strong>Shoplifter</strong></header><main>${body}</main></body></html>`;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24}header{padding:1rem 1.5rem;background:#7a1f5c;color:#fff}
main{max-width:36rem;margin:2rem auto;padding:0 1.25rem}button{font:inherit;padding:.5rem 1rem}:focus-visible{outline:3px solid #f59e0b}`;

/** Remembered notice ids, so a retried notice (same `x-webhook-id`) is answered without acting twice. */
const SEEN_NOTICES = 1000;

export async function buildShoplifter(config: ShoplifterConfig, options: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false });
  await app.register(cookie);
  // Our only form (Disconnect) carries no fields; accept its empty body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) =>
    done(null, {}),
  );
  // The removal notice is verified over the exact bytes received, so JSON stays raw until then.
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_request, body, done) => done(null, body));
  // A real partner keeps these in its database, per user; a demo keeps them in memory, per browser.
  const connections = new Map<string, Connection>();
  const seenNotices = new Set<string>();
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const };
  const browserId = (request: { cookies: Record<string, string | undefined> }) => request.cookies.shoplifter ?? '';
  const api = (path: string) => new URL(path, config.tokenUrl).toString();
  const issuer = new URL(config.authorizeUrl).origin;
  const tokenInfo = (token: string) => fetch(api('/v2/tokenInfo'), { headers: { authorization: `Bearer ${token}` } });

  /** What a token answer tells a connection: the access token and, with expiring tokens, its refresh token and expiry. */
  const tokenTerms = (answer: TokenAnswer): Pick<Connection, 'token' | 'refreshToken' | 'expiresAt' | 'lifetimeMs'> =>
    answer.refresh_token !== undefined && answer.expires_in !== undefined
      ? {
          token: answer.access_token,
          refreshToken: answer.refresh_token,
          expiresAt: Date.now() + answer.expires_in * 1000,
          lifetimeMs: answer.expires_in * 1000,
        }
      : { token: answer.access_token };

  /**
   * With expiring tokens, swaps the refresh token for a new pair when the access token is near its end. False when the
   * platform refused (the connection ended: removed, revoked, or the refresh token expired): the owner must connect again.
   */
  async function keepFresh(connection: Connection): Promise<boolean> {
    if (connection.refreshToken === undefined || connection.expiresAt === undefined || connection.lifetimeMs === undefined) return true;
    if (connection.expiresAt - Date.now() > refreshMargin(connection.lifetimeMs)) return true;
    // One refresh at a time: two with the same refresh token would look like a stolen token to the platform.
    connection.refreshing ??= (async () => {
      try {
        const res = await fetch(config.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: connection.refreshToken as string,
            client_id: config.clientId,
            client_secret: config.clientSecret,
          }),
        });
        if (res.status === 400) return false;
        if (!res.ok) throw new Error(`refresh failed: ${res.status}`);
        Object.assign(connection, tokenTerms((await res.json()) as TokenAnswer));
        app.log.info({ event: 'shoplifter.refreshed', appId: connection.appId, expiresAt: connection.expiresAt }, 'token refreshed');
        return true;
      } finally {
        connection.refreshing = undefined;
      }
    })();
    return connection.refreshing;
  }

  /**
   * Refreshes in the background too, shortly before expiry, so a connection nobody looks at stays alive until its
   * refresh token's idle life ends; a refusal ends the connection here as well.
   */
  function schedule(id: string, connection: Connection): void {
    clearTimeout(connection.timer);
    if (connection.expiresAt === undefined || connection.lifetimeMs === undefined) return;
    const due = connection.expiresAt - refreshMargin(connection.lifetimeMs) - Date.now();
    connection.timer = setTimeout(
      () => {
        keepFresh(connection).then(
          (ok) => (ok ? schedule(id, connection) : forget(id)),
          // The platform was unreachable: try again in a while, the token may still have some life.
          () => {
            connection.timer = setTimeout(() => schedule(id, connection), 5_000).unref();
          },
        );
      },
      Math.max(0, due),
    ).unref();
  }

  function forget(id: string): void {
    clearTimeout(connections.get(id)?.timer);
    connections.delete(id);
  }
  app.addHook('onClose', async () => {
    for (const id of [...connections.keys()]) forget(id);
  });

  /** When the token expires, as a person reads it. */
  function expiryNote(connection: Connection): string {
    if (connection.expiresAt === undefined) return '<p>Your access does not expire.</p>';
    const at = new Date(connection.expiresAt).toISOString();
    const seconds = Math.max(0, Math.round((connection.expiresAt - Date.now()) / 1000));
    return `<p id="token-expiry">Your current token expires at <time datetime="${at}">${at.slice(11, 19)} UTC</time> (in ${seconds} s); Shoplifter refreshes it before then.</p>`;
  }

  app.get('/style.css', async (_request, reply) => reply.type('text/css').send(STYLE));
  app.get('/health/live', async () => ({ status: 'ok' }));
  // The privacy policy and terms the registry lists for Shoplifter (policy_uri, tos_uri): the consent page links here.
  app.get('/privacy', async (_request, reply) =>
    reply
      .type('text/html')
      .send(
        page(
          'Privacy',
          '<h1>Shoplifter’s privacy policy</h1><p>Shoplifter is a demonstration partner. It keeps one access token per browser, in memory, and forgets it when you disconnect, when the app owner removes it, or when it restarts. It reads nothing else about you.</p><p><a href="/">Back to Shoplifter</a></p>',
        ),
      ),
  );
  app.get('/terms', async (_request, reply) =>
    reply
      .type('text/html')
      .send(
        page(
          'Terms',
          '<h1>Shoplifter’s terms</h1><p>Shoplifter is a demonstration partner, offered as is, for trying the platform’s “Add to” flow. Do not connect an app holding real data.</p><p><a href="/">Back to Shoplifter</a></p>',
        ),
      ),
  );

  app.get('/', async (request, reply) => {
    const id = browserId(request);
    const connection = connections.get(id);
    if (connection) {
      // 4. Before saying "connected", ask the platform whether the token still works: the owner may have
      //    removed us while a removal notice was on its way (or lost). An expiring token is refreshed first.
      const fresh = await keepFresh(connection).catch(() => undefined);
      const info = fresh === false ? undefined : await tokenInfo(connection.token).catch(() => undefined);
      if (fresh === false || info?.status === 401) {
        forget(id);
      } else if (!info?.ok) {
        return reply
          .code(503)
          .type('text/html')
          .send(
            page('Try again', '<h1>Cannot reach Smooch</h1><p>We could not check your connection just now. <a href="/">Try again</a></p>'),
          );
      } else {
        return reply.type('text/html').send(
          page(
            'Connected',
            `<h1>Connected to ${escapeHtml(connection.appName)}</h1><p>Shoplifter now lists your store’s orders in ${escapeHtml(connection.appName)}.</p>
${expiryNote(connection)}
<form method="post" action="/disconnect"><button type="submit">Disconnect</button></form>`,
          ),
        );
      }
    }
    // 1. Send the browser to the platform, with a fresh `state` bound to this browser (RFC 6749 §10.12).
    const state = randomBytes(16).toString('base64url');
    reply.setCookie('shoplifter_state', state, { ...cookieOptions, maxAge: 600 });
    const link = `${config.authorizeUrl}?${new URLSearchParams({ client_id: config.clientId, response_type: 'code', state })}`;
    const button = new URL('/static/add_to_button.png', config.authorizeUrl);
    const button2x = new URL('/static/add_to_button@2x.png', config.authorizeUrl);
    return reply.type('text/html').send(
      page(
        'Welcome',
        `<h1>Your store’s orders, in your conversations</h1><p>Connect Shoplifter to one of your apps to get started.</p>
<p class="add-to-smooch-button"><a href="${escapeHtml(link)}"><img alt="Add to Smooch" height="40" width="165" src="${button}" srcset="${button} 1x, ${button2x} 2x"></a></p>`,
      ),
    );
  });

  // 2. The platform sends the browser back with a code (or an error), our state and its issuer (RFC 9207).
  app.get<{ Querystring: Record<string, string | undefined> }>('/callback', async (request, reply) => {
    const { code, state, error, iss } = request.query;
    const expected = request.cookies.shoplifter_state;
    reply.clearCookie('shoplifter_state', { path: '/' });
    if (!state || !expected || !sameText(state, expected) || iss !== issuer) {
      return reply
        .code(400)
        .type('text/html')
        .send(page('Try again', '<h1>That did not come from us</h1><p><a href="/">Start again</a></p>'));
    }
    if (error || !code) {
      const why = error === 'access_denied' ? 'You chose not to connect Shoplifter.' : 'The platform could not connect Shoplifter.';
      return reply.type('text/html').send(page('Not connected', `<h1>Not connected</h1><p>${why}</p><p><a href="/">Back</a></p>`));
    }
    // 3. Trade the code for a token, server to server, with our secret.
    const tokenRes = await fetch(config.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: config.clientId,
        client_secret: config.clientSecret,
      }),
    });
    if (!tokenRes.ok)
      return reply.code(502).type('text/html').send(page('Not connected', '<h1>Connection failed</h1><p><a href="/">Try again</a></p>'));
    const terms = tokenTerms((await tokenRes.json()) as TokenAnswer);
    // 4. Ask which app the token is for (the owner chose it on the platform, not here).
    const info = await tokenInfo(terms.token);
    if (!info.ok)
      return reply.code(502).type('text/html').send(page('Not connected', '<h1>Connection failed</h1><p><a href="/">Try again</a></p>'));
    const { app: connectedApp } = (await info.json()) as { app: { id: string; name: string } };
    const id = randomBytes(16).toString('base64url');
    const connection: Connection = { ...terms, appId: connectedApp.id, appName: connectedApp.name };
    connections.set(id, connection);
    schedule(id, connection);
    reply.setCookie('shoplifter', id, cookieOptions);
    return reply.redirect('/', 303);
  });

  // 5. The platform tells us when an app's owner (or an admin) removed us: verify, then forget that app's connections.
  app.post('/removed', async (request, reply) => {
    const raw = request.body;
    const signature = request.headers['x-webhook-signature'];
    if (!Buffer.isBuffer(raw) || !verifyWebhookSignature(config.webhookSecret, typeof signature === 'string' ? signature : undefined, raw))
      return reply.code(401).send({ error: 'invalid_signature' });
    let notice: RemovalNotice;
    try {
      notice = JSON.parse(raw.toString('utf8')) as RemovalNotice;
    } catch {
      return reply.code(400).send({ error: 'invalid_body' });
    }
    // A retry of a notice already handled is acknowledged and not acted on again.
    if (seenNotices.has(notice.id)) return reply.code(204).send();
    if (notice.type === 'authorization.removed' && notice.client_id === config.clientId) {
      for (const [id, connection] of connections) if (connection.appId === notice.app_id) forget(id);
    }
    seenNotices.add(notice.id);
    if (seenNotices.size > SEEN_NOTICES) seenNotices.delete(seenNotices.values().next().value as string);
    return reply.code(204).send();
  });

  // Give the access back: every token of ours for that app stops working (and the platform notifies /removed).
  app.post('/disconnect', async (request, reply) => {
    const id = browserId(request);
    const connection = connections.get(id);
    if (connection) {
      // With expiring tokens, revoking the refresh token (RFC 7009) ends the whole authorization, whatever the access token's state.
      if (connection.refreshToken !== undefined) {
        await fetch(api('/oauth/revoke'), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: connection.refreshToken, client_id: config.clientId, client_secret: config.clientSecret }),
        });
      } else {
        await fetch(api('/oauth/authorization'), { method: 'DELETE', headers: { authorization: `Bearer ${connection.token}` } });
      }
      forget(id);
    }
    return reply.redirect('/', 303);
  });

  // What this browser's connection looks like from here, and whether its token still works as the platform sees it.
  app.get('/status', async (request) => {
    const connection = connections.get(browserId(request));
    if (!connection) return { connected: false };
    if ((await keepFresh(connection)) === false) return { connected: true, tokenWorks: false };
    const res = await tokenInfo(connection.token);
    const expiry = connection.expiresAt === undefined ? {} : { expiresAt: new Date(connection.expiresAt).toISOString() };
    return { connected: true, tokenWorks: res.ok, ...expiry };
  });

  return app;
}
