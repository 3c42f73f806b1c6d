// The peer: panva's oidc-provider with its documented Redis adapter, one process, production settings,
// the same clients (shoplifter; shoplifter-rotating with rotating refresh tokens), scope and resource server as the
// product's demo data, consent asked on every flow.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import Provider from 'oidc-provider';
import { redisAdapter } from './redis-adapter.js';

const ISSUER = 'https://peer.bench.invalid';
const RESOURCE = 'https://api.bench.invalid';
const SCOPE = 'app:read';

const redis = new Redis(process.env.REDIS_URL as string, { keyPrefix: process.env.REDIS_KEY_PREFIX ?? 'peer:' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(ISSUER, {
  adapter: redisAdapter(redis),
  clients: [
    {
      client_id: 'shoplifter',
      client_secret: 'secret',
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: ['http://localhost:4000/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: SCOPE,
    },
    // The partner with refresh tokens and rotation, as the product's `shoplifter-rotating` (issue 14).
    {
      client_id: 'shoplifter-rotating',
      client_secret: 'secret',
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: ['http://localhost:4000/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: SCOPE,
    },
    // The resource server's credential for introspection, as the product's `platform-api`.
    {
      client_id: 'platform-api',
      client_secret: 'platform-api-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [],
      grant_types: [],
      response_types: [],
    },
  ],
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: {
    keys: [
      { ...rsa, use: 'sig', alg: 'RS256' },
      { ...ec, use: 'sig', alg: 'ES256' },
    ],
  },
  scopes: ['openid', SCOPE],
  findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  // No grant is reused: every authorization request goes through consent, as the product's does; only the
  // grant just given at consent (the interaction's result) counts.
  loadExistingGrant: async (ctx: { oidc: { result?: { consent?: { grantId?: string } }; provider: typeof Provider } }) => {
    const grantId = ctx.oidc.result?.consent?.grantId;
    return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
  },
  // A partner's token outlives the browser session that consented, as the product's does (the default ties
  // it to the session's latest grant, which the next consent replaces).
  expiresWithSession: async () => false,
  interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  // Refresh tokens for the clients allowed the grant (not only with offline_access), rotated on every use,
  // as the product's expiring-token clients get them.
  issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({ scope: SCOPE, audience: RESOURCE, accessTokenTTL: 3600, accessTokenFormat: 'opaque' }),
    },
  },
  // Codes live 5 minutes, as the product's: the bench mints them before it redeems them.
  ttl: { AccessToken: 3600, AuthorizationCode: 300, Interaction: 600, Session: 86400, Grant: 86400 },
});
// Behind a TLS-terminating gateway, as the product in the bench (X-Forwarded-Proto: https).
provider.proxy = true;

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function page(res: ServerResponse, uid: string, action: 'login' | 'confirm'): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    `<!doctype html><form method="post" action="/interaction/${uid}/${action}"><input type="hidden" name="uid" value="${uid}"><button>${action}</button></form>`,
  );
}

/** The sign-in and consent pages: oidc-provider leaves them to the deployment, through its interaction API. */
async function interaction(req: IncomingMessage, res: ServerResponse, path: string[]): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const [uid, step] = path;
  if (uid !== details.uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') return page(res, details.uid, details.prompt.name === 'login' ? 'login' : 'confirm');
  const params = await form(req);
  if (step === 'login') {
    if (params.get('password') !== 'hopper-1906') throw new Error('bad password');
    return provider.interactionFinished(req, res, { login: { accountId: params.get('email') } }, { mergeWithLastSubmission: false });
  }
  const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(SCOPE);
  grant.addResourceScope(RESOURCE, SCOPE);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const CODE_FIELDS = [
  'accountId',
  'acr',
  'amr',
  'authTime',
  'claims',
  'codeChallenge',
  'codeChallengeMethod',
  'grantId',
  'nonce',
  'redirectUri',
  'resource',
  'scope',
  'sessionUid',
  'expiresWithSession',
] as const;

/** Setup only: `count` more codes like one the real flow issued, made through oidc-provider's model API. */
async function mintCodes(like: string, count: number): Promise<string[]> {
  const template = await provider.AuthorizationCode.find(like);
  if (!template) throw new Error('template code not found');
  const client = await provider.Client.find(template.clientId);
  const fields = Object.fromEntries(CODE_FIELDS.map((f) => [f, template[f]]));
  const codes: string[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => new provider.AuthorizationCode({ ...fields, client }).save());
    codes.push(...(await Promise.all(batch)));
  }
  return codes;
}

const callback = provider.callback();
const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/health/live') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (url.startsWith('/interaction/') || url.startsWith('/bench/')) {
    const run = url.startsWith('/bench/codes?')
      ? (async () => {
          const q = new URL(url, 'http://x').searchParams;
          const codes = await mintCodes(q.get('like') as string, Number(q.get('count')));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(codes));
        })()
      : interaction(req, res, url.split('?')[0]?.split('/').slice(2) ?? []);
    run.catch((err: unknown) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(err instanceof Error ? err.message : 'error');
    });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
if (process.env.PEER_DEBUG) {
  for (const event of ['grant.error', 'server_error', 'introspection.error', 'authorization.error'])
    provider.on(event, (_ctx: unknown, err: Error & { error_detail?: string }) => console.error(event, err.message, err.error_detail));
}
