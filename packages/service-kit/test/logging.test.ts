// Logging options: the request id carried from the caller, pino-pretty for development, JSON otherwise.
import { existsSync } from 'node:fs';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { baseServerOptions, loggerOptions, observabilityPlugin, requestIdFrom } from '../src/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('keeps a well-formed incoming id and replaces a missing, repeated or malformed one', () => {
    expect(requestIdFrom('0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(requestIdFrom('a1b2c3d4e5f60718')).toBe('a1b2c3d4e5f60718');
    expect(requestIdFrom(undefined)).toMatch(UUID);
    expect(requestIdFrom(['a1b2c3d4e5', 'f6a7b8c9d0'])).toMatch(UUID);
    expect(requestIdFrom('short')).toMatch(UUID);
    expect(requestIdFrom('has space in it, and "quotes"')).toMatch(UUID);
    expect(requestIdFrom('x'.repeat(129))).toMatch(UUID);
  });

  it('is what the app logs as reqId and echoes in x-request-id', async () => {
    const lines: string[] = [];
    const options = baseServerOptions({ logLevel: 'info', service: 'demo', trustProxy: false });
    const app = Fastify({ ...options, logger: { level: 'info', stream: { write: (l: string) => lines.push(l) } } });
    await app.register(observabilityPlugin, { service: 'demo', checks: {} });
    app.get('/x', async (request) => {
      request.log.info({ event: 'demo.seen' }, 'seen');
      return {};
    });
    const carried = await app.inject({ url: '/x', headers: { 'x-request-id': 'gateway-4f2a9c1e' } });
    expect(carried.headers['x-request-id']).toBe('gateway-4f2a9c1e');
    const fresh = await app.inject({ url: '/x', headers: { 'x-request-id': 'bad id' } });
    expect(fresh.headers['x-request-id']).toMatch(UUID);
    const seen = lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'demo.seen');
    expect(seen.map((l) => l.reqId)).toEqual(['gateway-4f2a9c1e', fresh.headers['x-request-id']]);
    await app.close();
  });
});

describe('the per-request child logger', () => {
  it('writes the request id once, as pino would, keeps redacting what a handler logs, and honours a route log level', async () => {
    const lines: string[] = [];
    const options = baseServerOptions({ logLevel: 'info', service: 'demo', trustProxy: false });
    const app = Fastify({ ...options, logger: { ...(options.logger as object), stream: { write: (l: string) => lines.push(l) } } });
    app.get('/x', async (request) => {
      request.log.warn({ event: 'demo.seen', body: { password: 'hunter2', client_secret: 's3cret' }, params: { code: 'c0de' } }, 'seen');
      request.log.child({ step: 'inner' }).warn({ event: 'demo.inner', form: { token: 't0ken' } }, 'inner');
      return {};
    });
    app.get('/quiet', { logLevel: 'error' }, async (request) => {
      request.log.warn({ event: 'demo.quiet' }, 'not written');
      return {};
    });
    await app.inject({ url: '/x', headers: { 'x-request-id': 'gateway-4f2a9c1e' } });
    await app.inject({ url: '/quiet' });
    await app.close();
    const raw = lines.filter((l) => l.includes('demo.'));
    expect(raw).toHaveLength(2);
    for (const line of raw) {
      expect(line.match(/"reqId"/g)).toHaveLength(1);
      expect(line).not.toMatch(/hunter2|s3cret|c0de|t0ken/);
    }
    const [seen, inner] = raw.map((l) => JSON.parse(l));
    expect(seen).toMatchObject({
      reqId: 'gateway-4f2a9c1e',
      service: 'demo',
      body: { password: '[redacted]', client_secret: '[redacted]' },
    });
    expect(seen.params.code).toBe('[redacted]');
    expect(inner).toMatchObject({ reqId: 'gateway-4f2a9c1e', step: 'inner', form: { token: '[redacted]' } });
  });
});

describe('log format', () => {
  it('prints JSON by default and goes through pino-pretty when asked', () => {
    expect(loggerOptions('info', 'demo')).not.toHaveProperty('transport');
    const pretty = loggerOptions('debug', 'demo', 'pretty') as { transport: { target: string } };
    expect(pretty.transport.target).toMatch(/pino-pretty/);
    expect(existsSync(pretty.transport.target)).toBe(true);
  });
});

describe('per-request lines (LOG_REQUESTS)', () => {
  async function logsFor(mode: 'all' | 'errors' | 'off' | undefined) {
    const lines: string[] = [];
    const options = baseServerOptions({ logLevel: 'info', service: 'demo', trustProxy: false });
    const app = Fastify({ ...options, logger: { ...(options.logger as object), stream: { write: (l: string) => lines.push(l) } } });
    await app.register(observabilityPlugin, { service: 'demo', checks: {}, ...(mode ? { logRequests: mode } : {}) });
    app.get('/ok', async (request) => {
      request.log.info({ event: 'demo.seen' }, 'seen');
      return {};
    });
    app.get('/missing', async (_request, reply) => reply.code(404).send({}));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    for (const [name, url] of [
      ['ok', '/ok?code=secret-code'],
      ['missing', '/missing'],
      ['boom', '/boom'],
    ])
      await app.inject({ url: url as string, headers: { 'x-request-id': `req-${name}-0001` } });
    await app.inject({ url: '/health/live' });
    await app.close();
    return lines.map((l) => JSON.parse(l));
  }
  const completed = (lines: any[]) => lines.filter((l) => l.msg === 'request completed');

  it('all: one line per request (not two), with its id, method, path without the query, status and time', async () => {
    const lines = await logsFor('all');
    expect(lines.filter((l) => l.msg === 'incoming request')).toEqual([]);
    expect(completed(lines).map((l) => [l.reqId, l.req.method, l.req.url, l.res.statusCode, l.level])).toEqual([
      ['req-ok-0001', 'GET', '/ok?[redacted]', 200, 30],
      ['req-missing-0001', 'GET', '/missing', 404, 30],
      ['req-boom-0001', 'GET', '/boom', 500, 50],
    ]);
    for (const l of completed(lines)) expect(typeof l.responseTime).toBe('number');
  });

  it('errors: only the server errors get a line; what a handler logs keeps its request id', async () => {
    const lines = await logsFor('errors');
    expect(completed(lines).map((l) => [l.reqId, l.res.statusCode])).toEqual([['req-boom-0001', 500]]);
    expect(lines.find((l) => l.event === 'demo.seen')?.reqId).toBe('req-ok-0001');
    expect(lines.filter((l) => l.level >= 50).every((l) => l.reqId === 'req-boom-0001')).toBe(true);
  });

  it('off: no request lines; what a handler logs still carries the request id', async () => {
    const lines = await logsFor('off');
    expect(completed(lines)).toEqual([]);
    expect(lines.find((l) => l.event === 'demo.seen')?.reqId).toBe('req-ok-0001');
    expect(lines.filter((l) => l.reqId !== undefined).map((l) => [l.reqId, l.msg])).toEqual([['req-ok-0001', 'seen']]);
  });

  it('defaults to errors', async () => {
    expect(completed(await logsFor(undefined)).map((l) => l.res.statusCode)).toEqual([500]);
  });
});
