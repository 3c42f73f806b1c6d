// The image of infra/Dockerfile run as production runs it: `migrate` and the three services as containers (read-only root,
// non-root, NODE_ENV=production) against loopback Postgres and Redis, the seed's flow through them, code the service user
// cannot rewrite. Run only by infra/image-test.sh (the CI step "image"), which builds the image and hands over:
// IMAGE_TEST_IMAGE, IMAGE_TEST_PODMAN (the podman command with its global options), IMAGE_TEST_RUN_OPTIONS, DATABASE_URL,
// REDIS_URL, REDIS_KEY_PREFIX.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appOption, Browser, CALLBACK, decide, exchange, freePort, hidden, startAuthorization } from '../test/support.js';

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run infra/image-test.sh`);
  return value;
}

const IMAGE = setting('IMAGE_TEST_IMAGE');
const [PODMAN, ...PODMAN_OPTIONS] = setting('IMAGE_TEST_PODMAN').split(' ') as [string, ...string[]];
// IMAGE_TEST_RUN_OPTIONS: the script's --ulimit values, within what this machine lets a container set.
const RUN = ['run', '--network', 'host', ...(process.env.IMAGE_TEST_RUN_OPTIONS ?? '').split(' ').filter(Boolean)];
// What the Kubernetes manifests set (infra/k8s/*.yaml securityContext): read-only root, no capabilities, no escalation.
const LOCKED_DOWN = ['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
const suffix = randomBytes(4).toString('hex');
const started: string[] = [];

/** Generated as an operator would (`openssl rand -base64 48`): production refuses placeholders and predictable values. */
const secret = () => randomBytes(48).toString('base64');

/** `out`: stdout and stderr, for messages; `stdout` alone, for what a command prints (podman warns on stderr). */
function podman(args: string[], timeoutMs = 120_000): { status: number | null; out: string; stdout: string } {
  const r = spawnSync(PODMAN, [...PODMAN_OPTIONS, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);

let ports: { ui: number; token: number; registry: number };
let gateway: Server;
let env: Record<string, string>;
const issuer = 'https://oauth.partner-oauth.test';

async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok;
  } catch {
    return false;
  }
}

async function startService(service: string, port: number): Promise<void> {
  const name = `partner-oauth-${service}-${suffix}`;
  const r = podman([...RUN, ...LOCKED_DOWN, '--detach', '--name', name, ...envArgs({ ...env, PORT: String(port) }), IMAGE, service]);
  if (r.status !== 0) throw new Error(`podman run ${service}: ${r.out}`);
  started.push(name);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await answers(port)) return;
    const state = podman(['inspect', '--format', '{{.State.Status}}', name]).stdout.trim();
    if (state !== 'running') throw new Error(`${service} is ${state}:\n${podman(['logs', name]).out}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${service} not ready on ${port} within 60 s:\n${podman(['logs', name]).out}`);
}

beforeAll(async () => {
  ports = { ui: await freePort(), token: await freePort(), registry: await freePort() };
  env = {
    DATABASE_URL: setting('DATABASE_URL'),
    REDIS_URL: setting('REDIS_URL'),
    REDIS_KEY_PREFIX: setting('REDIS_KEY_PREFIX'),
    ISSUER: issuer,
    TOKEN_SERVICE_PUBLIC_URL: issuer,
    SESSION_SECRET: secret(),
    WEBHOOK_SIGNING_KEY: secret(),
    TRUST_PROXY: '1',
    LOG_LEVEL: 'warn',
  };
}, 30_000);

afterAll(() => {
  gateway?.close();
  for (const name of started) podman(['rm', '--force', '--time', '0', name]);
});

it('migrate applies the migrations as the image’s user, on a read-only root', () => {
  const r = podman([...RUN, ...LOCKED_DOWN, '--rm', ...envArgs(env), IMAGE, 'migrate']);
  expect(r.out).toMatch(/applied migrations: \S+/);
  expect(r.status).toBe(0);
  // The job is idempotent: a second run (a redeploy) finds nothing to do.
  expect(podman([...RUN, ...LOCKED_DOWN, '--rm', ...envArgs(env), IMAGE, 'migrate']).out).toContain('database is up to date');
});

it('refuses to seed demo data in production, and seeds it with the image’s own tooling in development mode', () => {
  const seed = (mode: string) =>
    podman([
      ...RUN,
      '--rm',
      ...envArgs({ ...env, NODE_ENV: mode }),
      '--entrypoint',
      'node',
      IMAGE,
      '/app/packages/storage/dist/cli.js',
      'seed',
    ]);
  const refused = seed('production');
  expect(refused.out).toContain('refusing to seed demo data in production mode');
  expect(refused.status).toBe(1);
  const seeded = seed('development');
  expect(seeded.out).toContain('demo data seeded');
  expect(seeded.status).toBe(0);
});

it('the operator’s cli runs from the image (admin key made)', () => {
  const r = podman([...RUN, ...LOCKED_DOWN, '--rm', ...envArgs(env), IMAGE, 'cli', 'admin-keys', 'create', '--name', `image-${suffix}`]);
  expect(r.out).toMatch(/poak_[A-Za-z0-9_-]+/);
  expect(r.status).toBe(0);
});

it('the three services start as containers in production mode and answer readiness', async () => {
  await Promise.all([
    startService('authorize-ui', ports.ui),
    startService('token-service', ports.token),
    startService('client-registry', ports.registry),
  ]);
  for (const name of started) {
    const config = podman(['inspect', '--format', '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}', name]).stdout.trim();
    expect(config).toBe('node true');
  }
}, 200_000);

/**
 * What the gateway in front does (infra/gateway/nginx.conf): TLS ends there and it tells the service so. With an https
 * ISSUER the session cookie is `Secure`, set only on a request that came over TLS (X-Forwarded-Proto, TRUST_PROXY=1).
 */
async function startGateway(target: number): Promise<string> {
  gateway = createServer((req, res) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  gateway.listen(0, '127.0.0.1');
  await once(gateway, 'listening');
  return `http://127.0.0.1:${(gateway.address() as { port: number }).port}`;
}

it('the seed’s flow through the containers: ada picks Acme Sales, allows, the partner trades the code and reads tokenInfo', async () => {
  const browser = new Browser(await startGateway(ports.ui));
  const { html: picker } = await startAuthorization(
    browser,
    'client_id=shoplifter&response_type=code&state=image',
    'ada@example.com',
    'lovelace-1815',
  );
  const salesId = appOption(picker, 'Acme Sales');
  const consent = await (await browser.get(`/oauth/consent?request_id=${hidden(picker, 'request_id')}&app_id=${salesId}`)).text();
  expect(consent).toContain('Shoplifter wants access to Acme Sales');
  const back = await decide(browser, consent, 'allow');
  expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
  expect(back.searchParams.get('iss')).toBe(issuer);
  const code = back.searchParams.get('code') as string;
  const tokenUrl = `http://127.0.0.1:${ports.token}`;
  const token = await exchange(tokenUrl, { grant_type: 'authorization_code', client_id: 'shoplifter', client_secret: 'secret', code });
  expect(token.status).toBe(200);
  expect(token.body).toMatchObject({ access_token: expect.stringMatching(/^poat_/), app_id: salesId });
  const info = await fetch(`${tokenUrl}/v2/tokenInfo`, { headers: { authorization: `Bearer ${token.body.access_token}` } });
  expect(info.status).toBe(200);
  expect(await info.json()).toMatchObject({ app: { id: salesId, name: 'Acme Sales' }, client: { id: 'shoplifter', name: 'Shoplifter' } });
}, 60_000);

it('the HEALTHCHECK of the image passes in a running service', () => {
  const name = started.find((n) => n.includes('token-service')) as string;
  // The check reads PORT from the container's environment, as Docker's health check does.
  const r = podman(['healthcheck', 'run', name]);
  expect(r.status, r.out).toBe(0);
});

it('the code in the image is not writable by the service user, even without the read-only root', () => {
  // Without --read-only, so what stops the writes is ownership, not the mount.
  const probe = `
    const fs = require('node:fs');
    const tries = {
      append: (p) => fs.appendFileSync(p, '//'),
      create: (p) => fs.writeFileSync(p, 'x'),
      mkdir: (p) => fs.mkdirSync(p),
    };
    const targets = [
      ['append', '/app/infra/start.mjs'], ['append', '/app/apps/token-service/dist/server.js'],
      ['append', '/app/package.json'], ['create', '/app/apps/authorize-ui/dist/evil.js'],
      ['create', '/app/node_modules/evil.js'], ['mkdir', '/app/packages/storage/dist/evil'],
    ];
    const result = { uid: process.getuid() };
    for (const [how, path] of targets) {
      try { tries[how](path); result[path] = 'written'; } catch (err) { result[path] = err.code; }
    }
    result.writable = require('node:child_process').execFileSync('find', ['/app', '-writable'], { encoding: 'utf8' });
    console.log(JSON.stringify(result));`;
  const r = podman([...RUN, '--rm', '--entrypoint', 'node', IMAGE, '-e', probe]);
  expect(r.status, r.out).toBe(0);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  expect(result.uid).toBe(1000);
  for (const [path, outcome] of Object.entries(result)) if (path.startsWith('/')) expect(outcome, path).toBe('EACCES');
  // Nothing anywhere under /app is writable by that user (find -writable asks the kernel, as the user).
  expect(result.writable).toBe('');
});

it('each service exits 0 on SIGTERM (podman stop)', () => {
  for (const name of started) {
    podman(['stop', '--time', '30', name], 60_000);
    expect(podman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim(), name).toBe('0');
  }
}, 200_000);
