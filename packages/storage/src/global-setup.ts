// The vitest globalSetup of every package that tests against Postgres (named by @partner-oauth/vitest-config).
export { setupTemplateDatabase as default } from './testing.js';
