// Tests run against the real Postgres: one migrated template per run, one clone per test file.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], globalSetup: ['./test/global-setup.ts'], testTimeout: 20_000, hookTimeout: 30_000 },
});
