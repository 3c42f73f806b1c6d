// Public surface of the client-registry app, for its server entry point and the all-in-one standalone process.

export { AdminApiError } from './admin-api-error.js';
export { buildApp, type ClientRegistryDeps } from './app.js';
export { runCli } from './cli/commands.js';
export {
  ClientRegistryConfig,
  type ClientRegistryEnv,
  DEV_WEBHOOK_SIGNING_KEY_WARNING,
  loadClientRegistryConfig,
} from './config.js';
