// Unit tests: no store. A fresh machine installs kubectl, nginx, promtool and docker-compose from Debian first.
import { unitTests } from '@partner-oauth/vitest-config';
import { defineConfig, mergeConfig } from 'vitest/config';

export default mergeConfig(
  unitTests,
  defineConfig({
    test: {
      globalSetup: ['./test/global-setup.ts'],
      hookTimeout: 900_000,
    },
  }),
);
