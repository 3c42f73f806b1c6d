// One migrated, seeded template database per test run (see src/testing.ts).
export { setupTemplateDatabase as default } from '../src/testing.js';
