// Unit tests: no store.
export { unitTests as default } from '@partner-oauth/vitest-config';
