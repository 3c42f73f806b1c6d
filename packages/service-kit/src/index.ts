// The small kit every service stands on: config, logging, crypto, clock, health and metrics (infrastructure only).

export * from './clock.js';
export * from './coalescer.js';
export * from './config.js';
export * from './crypto.js';
export * from './html.js';
export * from './logging.js';
export * from './metrics.js';
export * from './observability.js';
export * from './run.js';
export * from './secrets.js';
export * from './service-app.js';
export * from './unavailable.js';
export * from './validation.js';
