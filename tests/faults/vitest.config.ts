import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Each file starts several processes; one file at a time keeps a 2-core machine responsive.
    fileParallelism: false,
  },
});
