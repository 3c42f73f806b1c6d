// The vitest settings every test package shares (one package, as Turborepo's with-vitest example):
// a package's vitest.config.ts names the kind of tests it holds and adds only what is its own.
import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * The one globalSetup of every package that tests against Postgres: a migrated, seeded template
 * database per run (see @partner-oauth/storage/testing). Vitest resolves it from the package root,
 * so it names storage's export rather than a file of this package (storage tests with it too).
 */
export const TEMPLATE_DATABASE_SETUP = '@partner-oauth/storage/global-setup';

/** Tests with no store: rules, parsers, files. */
export const unitTests = defineConfig({ test: { include: ['test/**/*.test.ts'] } });

/** Tests against the real Postgres and Redis: each file clones the run's template database. */
export const databaseTests = mergeConfig(
  unitTests,
  defineConfig({ test: { globalSetup: [TEMPLATE_DATABASE_SETUP], testTimeout: 20_000, hookTimeout: 30_000 } }),
);

/**
 * Tests that start services as processes (or a browser): longer timeouts, and one file at a time
 * so a 2-core machine stays responsive.
 */
export const processTests = mergeConfig(
  databaseTests,
  defineConfig({ test: { testTimeout: 30_000, hookTimeout: 60_000, fileParallelism: false } }),
);

/** Process tests that cut stores, crash or scale services: each step waits on restarts. */
export const slowProcessTests = mergeConfig(processTests, defineConfig({ test: { testTimeout: 60_000, hookTimeout: 90_000 } }));
