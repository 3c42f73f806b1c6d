// A Redis connection for tests, under a key prefix of its own so runs never collide.
import { randomBytes } from 'node:crypto';
import { RedisStore } from './store.js';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testKeyPrefix(): string {
  return `poauth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

export interface TestRedis {
  url: string;
  keyPrefix: string;
  store: RedisStore;
  /** Deletes every key of this prefix and closes the connection. */
  cleanup: () => Promise<void>;
}

export function createTestRedis(): TestRedis {
  const keyPrefix = testKeyPrefix();
  const store = RedisStore.connect(TEST_REDIS_URL, keyPrefix);
  return {
    url: TEST_REDIS_URL,
    keyPrefix,
    store,
    cleanup: async () => {
      const keys = await store.redis.keys(`${keyPrefix}*`);
      // keys() returns full names; the client would prefix again, so strip it.
      if (keys.length > 0) await store.redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
      await store.close();
    },
  };
}
