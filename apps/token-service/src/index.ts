// token-service: the token endpoint and, later, revocation, introspection and metadata.
export { buildApp, type TokenServiceDeps } from './app.js';
export { loadTokenServiceConfig, TokenServiceConfig } from './config.js';
export { ACCESS_TOKEN_PREFIX } from './routes/token.js';
