// The image test only (tests/e2e/image), run by infra/image-test.sh after it builds the image; `pnpm test` never runs it.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['image/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // One test after another: they share the containers the earlier ones start.
    sequence: { concurrent: false },
  },
});
