// Tests that cut stores, crash or scale the services as processes: see @partner-oauth/vitest-config.
export { slowProcessTests as default } from '@partner-oauth/vitest-config';
