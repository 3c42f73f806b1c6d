// The one source of truth for every wire shape of the three services.

export * from './authorize.js';
export * from './bearer.js';
export * from './introspection.js';
export * from './metadata.js';
export * from './oauth-errors.js';
export * from './params.js';
export * from './pkce.js';
export * from './redirect-uri.js';
export * from './registry.js';
export * from './registry-admin.js';
export * from './scopes.js';
export * from './token.js';
