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

describe('log format', () => {
  it('prints JSON by default and goes through pino-pretty when asked', () => {
    expect(loggerOptions('info', 'demo')).not.toHaveProperty('transport');
    const pretty = loggerOptions('debug', 'demo', 'pretty') as { transport: { target: string } };
    expect(pretty.transport.target).toMatch(/pino-pretty/);
    expect(existsSync(pretty.transport.target)).toBe(true);
  });
});
