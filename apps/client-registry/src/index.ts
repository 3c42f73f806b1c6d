// Public surface of the client-registry app, for its server entry point and the all-in-one standalone process.
export { type AppDeps, buildApp } from './app.js';
export { runCli } from './cli/commands.js';
export {
  DEV_WEBHOOK_SIGNING_KEY_WARNING,
  loadRegistryConfig,
  type RegistryConfig,
  RegistryConfigSchema,
  type RegistryEnv,
} from './config.js';
export { AdminApiError } from './errors.js';
