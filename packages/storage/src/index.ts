// Postgres storage: schema, migrations, repositories, demo seed.
export * from './db.js';
export * from './health.js';
export * from './migrate.js';
export * from './nul-guard.js';
export * from './repositories/accounts.js';
export * from './repositories/admin-keys.js';
export * from './repositories/apps.js';
export * from './repositories/audit-log.js';
export * from './repositories/client-authorizations.js';
export * from './repositories/clients.js';
export * from './repositories/grants.js';
export * from './repositories/ids.js';
export * from './repositories/integrations.js';
export * from './repositories/outbox.js';
export * from './repositories/resource-servers.js';
export * from './schema.js';
export * from './seed.js';
