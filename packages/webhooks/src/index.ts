// Removal notifications to partners: signed delivery, the outbox worker, and the partner-side check.
export * from './deliver.js';
export * from './outbound.js';
export * from './signing.js';
export * from './verify.js';
export * from './worker.js';
