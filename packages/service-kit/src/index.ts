// The small kit every service stands on: config, logging, crypto, errors, clock, health and metrics.

export * from './clock.js';
export * from './config.js';
export * from './crypto.js';
export * from './errors.js';
export * from './html.js';
export * from './logging.js';
export * from './metadata-route.js';
export * from './metrics.js';
export * from './observability.js';
export * from './run.js';
export * from './secrets.js';
export * from './unavailable.js';
export * from './validation.js';
export * from './webhook-config.js';
