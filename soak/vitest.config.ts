// The soak's pure rules (verdict, sampling): no database, no processes.
export { unitTests as default } from '@partner-oauth/vitest-config';
