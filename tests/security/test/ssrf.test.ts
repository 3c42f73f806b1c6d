// SSRF through remove_url (RFC 9700 §4.16's "the server fetches a URL the client chose"): registration refuses
// internal targets, and delivery resolves the host, refuses a private address and connects only to what it checked.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp as buildRegistry, loadClientRegistryConfig } from '@partner-oauth/client-registry';
import { loadTokenServiceConfig } from '@partner-oauth/token-service';
import { type DeliverableRow, deliverOne, type Resolver } from '@partner-oauth/webhooks';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Product, registryPost, startProduct } from './support/product.js';

const SIGNING_KEY = 'security-suite-webhook-signing-key-0123456789';

let p: Product;
let production: FastifyInstance;
let receiver: { server: Server; port: number; hits: string[] };

beforeAll(async () => {
  p = await startProduct();
  production = await buildRegistry({
    config: loadClientRegistryConfig({ NODE_ENV: 'production', ISSUER: 'https://auth.example', WEBHOOK_SIGNING_KEY: SIGNING_KEY }),
    db: p.t.db,
    logger: false,
  });
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver = { server, port: (server.address() as AddressInfo).port, hits };
});
afterAll(async () => {
  await production.close();
  receiver.server.closeAllConnections();
  await new Promise((resolve) => receiver.server.close(resolve));
  await p.close();
});

const client = (remove_url: string) => ({
  client_name: 'SSRF probe',
  redirect_uris: ['https://probe.example/callback'],
  remove_url,
});

// IP literals (in every spelling the URL parser folds to one) and names that can only mean an internal host.
const internal = [
  'https://169.254.169.254/latest/meta-data/',
  'https://10.0.0.1/hook',
  'https://192.168.1.1/hook',
  'https://172.16.0.1/hook',
  'https://100.64.0.1/hook',
  'https://0.0.0.0/hook',
  'https://[::]/hook',
  'https://[fd00::1]/hook',
  'https://[fe80::1]/hook',
  'https://[ff02::1]/hook',
  'https://224.0.0.1/hook',
  'https://[::ffff:169.254.169.254]/hook',
  'https://[::ffff:10.0.0.1]/hook',
  'https://0xa9fea9fe/hook',
  'https://2852039166/hook',
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://printer.local/hook',
  'https://intranet/hook',
];
const loopback = [
  'http://127.0.0.1:4000/removed',
  'https://127.0.0.1/hook',
  'https://[::1]/hook',
  'http://localhost:4000/removed',
  'https://api.localhost/hook',
  'https://2130706433/hook',
];

describe('SSRF through remove_url', () => {
  it.each([...internal, ...loopback])(
    'SSRF at registration: production refuses remove_url %s with 400 naming the field, and stores nothing',
    async (url) => {
      const res = await registryPost(production, '/v1/clients', client(url));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_client_metadata' });
      expect(res.json().message).toMatch(/^remove_url: /);
      const stored = await p.t.db
        .selectFrom('clients')
        .select('client_id')
        .where('remove_url', '=', url)
        .where('client_name', '=', 'SSRF probe')
        .execute();
      expect(stored).toEqual([]);
    },
  );

  it.each(internal)('SSRF at registration: even in development (loopback allowed) remove_url %s is refused', async (url) => {
    const res = await registryPost(p.registry, '/v1/clients', client(url));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^remove_url: /);
  });

  it('SSRF at registration: the same rule on PATCH', async () => {
    const created = await registryPost(production, '/v1/clients', client('https://probe.example/removed'));
    expect(created.statusCode).toBe(201);
    const id = created.json().client_id as string;
    const res = await production.inject({
      method: 'PATCH',
      url: `/v1/clients/${id}`,
      headers: { authorization: `Bearer security-suite-admin-token-0123456789abcdef`, 'content-type': 'application/json' },
      payload: JSON.stringify({ remove_url: 'https://169.254.169.254/latest/meta-data/' }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^remove_url: /);
  });

  it('SSRF setting: WEBHOOK_ALLOW_LOOPBACK cannot be switched on in production', () => {
    const env = {
      NODE_ENV: 'production',
      ISSUER: 'https://auth.example',
      WEBHOOK_SIGNING_KEY: SIGNING_KEY,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
    };
    expect(() => loadClientRegistryConfig(env)).toThrow(/WEBHOOK_ALLOW_LOOPBACK/);
    expect(() => loadTokenServiceConfig(env)).toThrow(/WEBHOOK_ALLOW_LOOPBACK/);
  });
});

const row = (url: string): DeliverableRow => ({
  id: 'b7f0c1de-0000-4000-8000-000000000012',
  client_id: 'shoplifter',
  url,
  secret_version: 1,
  payload: '{"type":"authorization.removed"}',
  request_id: null,
});

/** A resolver standing in for a DNS server the attacker controls. */
const resolving = (...answers: string[][]): Resolver & { calls: number } => {
  const resolver = Object.assign(
    async (_host: string) => {
      const answer = answers[Math.min(resolver.calls, answers.length - 1)] ?? [];
      resolver.calls += 1;
      return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    { calls: 0 },
  );
  return resolver;
};

describe('SSRF at delivery', () => {
  it('SSRF at delivery: a stored loopback remove_url is not POSTed to when loopback is not allowed (production)', async () => {
    const before = receiver.hits.length;
    const result = await deliverOne(row(`http://127.0.0.1:${receiver.port}/removed`), { signingKey: SIGNING_KEY });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^refused: /);
    expect(receiver.hits.length).toBe(before);
  });

  it('SSRF at delivery: a public-looking name that resolves to a loopback address is refused before connecting', async () => {
    const before = receiver.hits.length;
    const resolver = resolving(['127.0.0.1']);
    const result = await deliverOne(row(`https://hooks.partner.example:${receiver.port}/removed`), { signingKey: SIGNING_KEY, resolver });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^refused: hooks\.partner\.example resolves to 127\.0\.0\.1/);
    expect(resolver.calls).toBe(1);
    expect(receiver.hits.length).toBe(before);
  });

  it.each([['10.0.0.1'], ['169.254.169.254'], ['fd00::1'], ['::ffff:192.168.1.1'], ['100.64.1.1']])(
    'SSRF at delivery: a name resolving to %s is refused, whatever the policy on loopback',
    async (address) => {
      const result = await deliverOne(row('https://hooks.partner.example/removed'), {
        signingKey: SIGNING_KEY,
        allowLoopback: true,
        resolver: resolving([address]),
      });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toMatch(/^refused: hooks\.partner\.example resolves to /);
    },
  );

  it('SSRF at delivery: one private address among public-looking ones is enough to refuse the name', async () => {
    const result = await deliverOne(row('https://hooks.partner.example/removed'), {
      signingKey: SIGNING_KEY,
      allowLoopback: true,
      resolver: resolving(['127.0.0.1', '10.1.2.3']),
    });
    expect(!result.ok && result.error).toMatch(/resolves to 10\.1\.2\.3/);
  });

  it('DNS rebinding: the name is resolved once and the socket goes to the address that was checked', async () => {
    const before = receiver.hits.length;
    // The first answer passes the check (loopback allowed, as in development); any later one would be private.
    const resolver = resolving(['127.0.0.1'], ['10.0.0.1']);
    const result = await deliverOne(row(`http://hooks.localhost:${receiver.port}/removed`), {
      signingKey: SIGNING_KEY,
      allowLoopback: true,
      resolver,
    });
    expect(result).toEqual({ ok: true, status: 204 });
    expect(resolver.calls).toBe(1);
    expect(receiver.hits.slice(before)).toEqual(['POST /removed']);
  });

  it('SSRF at delivery: a redirect towards an internal address is not followed', async () => {
    const server = createServer((_req, res) => res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' }).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const result = await deliverOne(row(`http://127.0.0.1:${port}/removed`), { signingKey: SIGNING_KEY, allowLoopback: true });
      expect(result).toEqual({ ok: false, status: 302, error: 'HTTP 302: redirect not followed' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('SSRF at delivery: a partner streaming an endless body or never answering is cut off (time and size bounds)', async () => {
    let written = 0;
    const server = createServer((req, res) => {
      req.resume();
      if (req.url === '/hang') return;
      res.writeHead(500);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < 512 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const big = await deliverOne(row(`http://127.0.0.1:${port}/big`), { signingKey: SIGNING_KEY, allowLoopback: true, timeoutMs: 5_000 });
      expect(big).toMatchObject({ ok: false, status: 500 });
      expect(!big.ok && big.error.length).toBeLessThanOrEqual(200);
      // Far less than what the partner offered was read.
      expect(written).toBeLessThan(64 * 1024 * 1024);
      const hang = await deliverOne(row(`http://127.0.0.1:${port}/hang`), { signingKey: SIGNING_KEY, allowLoopback: true, timeoutMs: 300 });
      expect(hang).toEqual({ ok: false, error: 'timeout' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
