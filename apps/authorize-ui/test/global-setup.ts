// One migrated, seeded template database per test run (see @partner-oauth/storage/testing).
export { setupTemplateDatabase as default } from '@partner-oauth/storage/testing';
