// useApp(): one app built by its own buildApp on the test file's own database (and Redis prefix), closed and dropped after.
import { createTestRedis, type TestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, inject } from 'vitest';

export interface AppHarness {
  app: FastifyInstance;
  /** The file's own database, cloned from the run's migrated and seeded template. */
  t: TestDatabase;
  /** The file's own Redis key prefix (only when asked for). */
  redis: TestRedis;
}

export interface UseAppOptions<H> {
  /** Whether the app needs Redis (authorize-ui and token-service do; client-registry does not). */
  redis: boolean;
  /** Builds the app on the file's stores (each app's tests wrap this with their own config). */
  build: (stores: { t: TestDatabase; redis: TestRedis }) => Promise<FastifyInstance>;
  /** Runs before the app is built: what the database must hold when the app starts (a worker may read it at once). */
  prepare?: (t: TestDatabase) => Promise<void>;
  /** Fills the app's own fields of the harness once the app is built. */
  extend?: (harness: AppHarness) => Promise<Omit<H, keyof AppHarness>> | Omit<H, keyof AppHarness>;
}

/**
 * Registers the beforeAll/afterAll pair every integration test file needs and returns the harness, filled in once
 * beforeAll has run (read its fields inside tests and hooks, not at the top of the file).
 */
export function useApp<H extends AppHarness = AppHarness>(options: UseAppOptions<H>): H {
  const harness = {} as H;
  beforeAll(async () => {
    harness.t = await createTestDatabase(inject('templateDatabase'));
    if (options.redis) harness.redis = createTestRedis();
    await options.prepare?.(harness.t);
    harness.app = await options.build({ t: harness.t, redis: harness.redis });
    await harness.app.ready();
    Object.assign(harness, await options.extend?.(harness));
  });
  afterAll(async () => {
    await harness.app?.close();
    await harness.redis?.cleanup();
    await harness.t?.drop();
  });
  return harness;
}
