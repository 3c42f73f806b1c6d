// Tests against the real Postgres and Redis: one migrated template per run, one clone per test file.
export { databaseTests as default } from '@partner-oauth/vitest-config';
