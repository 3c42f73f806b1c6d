// The three services as separate processes against real Postgres and Redis, each started from its production
// bundle (dist/bundle/server.js, made by its build: scripts/bundle.mjs) as the image and the bench start them.

import { execFileSync } from 'node:child_process';
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type Deployment, describePartnerFlow } from './flow.js';
import { Browser, decide, exchange, freePort, ROOT, type Service, startAuthorization, startProcess, stopProcess } from './support.js';

let t: TestDatabase;
const redis = createTestRedis();
const services: Service[] = [];
let deployment: Deployment;

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  const [ui, token, registry] = [await freePort(), await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${ui}`;
  const env = {
    DATABASE_URL: t.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ISSUER: issuer,
  };
  const start = (name: string, port: number) =>
    startProcess(name, ['node', `apps/${name}/dist/bundle/server.js`], { ...env, PORT: String(port) }, [`http://127.0.0.1:${port}`]);
  services.push(...(await Promise.all([start('authorize-ui', ui), start('token-service', token), start('client-registry', registry)])));
  deployment = {
    authorizeUrl: issuer,
    tokenUrl: `http://127.0.0.1:${token}`,
    issuer,
    appId: async (name) => t.ids.apps[name] as string,
  };
  registryUrl = `http://127.0.0.1:${registry}`;
}, 60_000);

let registryUrl = '';

afterAll(async () => {
  const codes = await Promise.all(services.map(stopProcess));
  await redis.cleanup();
  await t.drop();
  // Graceful shutdown: every service exits 0 on SIGTERM.
  if (codes.some((c) => c !== 0)) throw new Error(`a service did not exit cleanly: ${codes.join(', ')}`);
});

describePartnerFlow(() => deployment);

it('an admin key made with the CLI registers a partner over HTTP, and that partner’s flow works', async () => {
  const out = execFileSync(process.execPath, ['apps/client-registry/dist/cli.js', 'admin-keys', 'create', '--name', 'e2e-admin'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: t.url, NODE_ENV: 'test' },
    encoding: 'utf8',
  });
  const key = out.match(/poak_[A-Za-z0-9_-]+/)?.[0] as string;
  expect(key).toBeTruthy();
  const callback = 'https://crm.example/oauth/callback';
  const created = await fetch(`${registryUrl}/v1/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Acme CRM',
      description: 'Syncs contacts',
      redirect_uris: [callback],
      scope: 'app:read users:read',
    }),
  });
  expect(created.status).toBe(201);
  const client = (await created.json()) as { client_id: string; client_secret: string };
  expect(client).toMatchObject({ client_name: 'Acme CRM', scope: 'app:read users:read', status: 'active' });
  expect(client.client_secret).toMatch(/^pocs_/);

  const browser = new Browser(deployment.authorizeUrl);
  const { html } = await startAuthorization(
    browser,
    `client_id=${client.client_id}&response_type=code&state=crm`,
    'grace@example.com',
    'hopper-1906',
  );
  expect(html).toContain('Acme CRM wants access to Grace Shop');
  const back = await decide(browser, html, 'allow');
  expect(`${back.origin}${back.pathname}`).toBe(callback);
  const token = await exchange(deployment.tokenUrl, {
    grant_type: 'authorization_code',
    code: back.searchParams.get('code') as string,
    client_id: client.client_id,
    client_secret: client.client_secret,
  });
  expect(token.status).toBe(200);
  expect(token.body).toMatchObject({ token_type: 'Bearer', app_id: t.ids.apps['Grace Shop'], scope: 'app:read users:read' });

  // Disabling the client over HTTP (with If-Match) ends its use of the token at once.
  const current = await fetch(`${registryUrl}/v1/clients/${client.client_id}`, { headers: { authorization: `Bearer ${key}` } });
  const disabled = await fetch(`${registryUrl}/v1/clients/${client.client_id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'if-match': current.headers.get('etag') as string },
    body: JSON.stringify({ status: 'disabled' }),
  });
  expect(disabled.status).toBe(200);
  const info = await fetch(`${deployment.tokenUrl}/v2/tokenInfo`, { headers: { authorization: `Bearer ${token.body.access_token}` } });
  expect(info.status).toBe(401);
});

it('the bundled registry serves its API docs with their assets (@fastify/swagger-ui stays in node_modules)', async () => {
  const page = await fetch(`${registryUrl}/docs/`);
  expect(page.status).toBe(200);
  const html = await page.text();
  const script = /src="\.\/([^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeTruthy();
  const asset = await fetch(`${registryUrl}/docs/${script}`);
  expect(asset.status).toBe(200);
  expect((await asset.text()).length).toBeGreaterThan(1000);
  const logo = await fetch(`${registryUrl}/docs/static/logo.svg`);
  expect(logo.status).toBe(200);
});
