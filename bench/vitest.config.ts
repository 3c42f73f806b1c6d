// The bench's own servers, started as processes against the real Postgres: see @partner-oauth/vitest-config.
export { processTests as default } from '@partner-oauth/vitest-config';
