// REDIS_URL naming Redis Sentinel: the store follows the master a real Sentinel (on loopback) names.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, sentinelTarget } from '../src/index.js';
import { testKeyPrefix } from '../src/testing.js';

describe('sentinelTarget', () => {
  it('reads hosts, ports, master name and password', () => {
    expect(sentinelTarget('redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/main')).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'main',
      password: 's3cret',
      sentinelPassword: 's3cret',
    });
    expect(sentinelTarget('redis://127.0.0.1:6379')).toBeUndefined();
    expect(() => sentinelTarget('redis-sentinel://10.0.0.1:26379')).toThrow(/master name/);
  });
});

describe('a store behind a real Sentinel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'poauth-sentinel-'));
  let sentinel: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    port = (probe.address() as { port: number }).port;
    probe.close();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor poauth-test 127.0.0.1 6379 1\n`);
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    // Sentinel answers once it has read its configuration.
    for (let i = 0; i < 50; i++) {
      try {
        const { Redis } = await import('ioredis');
        const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
        client.on('error', () => {});
        await client.connect();
        const master = await client.call('SENTINEL', 'get-master-addr-by-name', 'poauth-test');
        client.disconnect();
        if (Array.isArray(master)) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('sentinel did not start');
  });

  afterAll(() => {
    sentinel?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores and takes through the master Sentinel names', async () => {
    const store = RedisStore.connect(`redis-sentinel://127.0.0.1:${port}/poauth-test`, testKeyPrefix());
    try {
      await store.set('k', 'v', 10_000);
      expect(await store.take('k')).toBe('v');
      expect(await store.take('k')).toBeNull();
    } finally {
      await store.close();
    }
  });
});
