// Unit tests: no store. A fresh machine installs kubectl, nginx, promtool and docker-compose from Debian first.
import { unitTests } from '@partner-oauth/vitest-config';
import { defineConfig, mergeConfig } from 'vitest/config';

export default mergeConfig(
  unitTests,
  defineConfig({
    test: {
      globalSetup: ['./test/global-setup.ts'],
      hookTimeout: 900_000,
      // The tests run real tools (promtool test rules, kubectl kustomize, nginx -t, docker-compose): seconds each on a
      // loaded machine (promtool's rule tests took 9.9 s with the load average at 14). Nothing here is a timing claim.
      testTimeout: 120_000,
    },
  }),
);
