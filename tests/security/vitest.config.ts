// Tests that start the services as processes: see @partner-oauth/vitest-config.
// The attacks run against in-process apps as much as processes, so files may run side by side.
import { processTests } from '@partner-oauth/vitest-config';
import { defineConfig, mergeConfig } from 'vitest/config';

export default mergeConfig(processTests, defineConfig({ test: { fileParallelism: true } }));
