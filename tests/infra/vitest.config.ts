import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // A fresh machine installs kubectl, nginx, promtool and docker-compose from Debian first.
    hookTimeout: 900_000,
  },
});
