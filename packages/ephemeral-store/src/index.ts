// Short-lived state: authorization codes, browser sessions, pending authorization requests.

export * from './codes.js';
export * from './sessions.js';
export * from './store.js';
export * from './throttle.js';
