// Tests that start the services as processes: see @partner-oauth/vitest-config.
export { processTests as default } from '@partner-oauth/vitest-config';
