// Container entry point: the first argument names the service to run (or the migration job). Each service starts
// from its production bundle (dist/bundle/server.js, made by its build with scripts/bundle.mjs).
const entries = {
  'authorize-ui': '../apps/authorize-ui/dist/bundle/server.js',
  'token-service': '../apps/token-service/dist/bundle/server.js',
  'client-registry': '../apps/client-registry/dist/bundle/server.js',
};

const [name] = process.argv.slice(2);
if (name === 'cli') {
  // The operator's commands of client-registry (admin keys, accounts): `cli admin-keys create --name ops`.
  process.argv = [process.argv[0], process.argv[1], ...process.argv.slice(3)];
  await import('../apps/client-registry/dist/cli.js');
} else if (name === 'migrate') {
  process.argv = [process.argv[0], process.argv[1], 'migrate'];
  await import('../packages/storage/dist/cli.js');
} else if (name && Object.hasOwn(entries, name)) {
  await import(entries[name]);
} else {
  console.error(`usage: start.mjs ${[...Object.keys(entries), 'migrate', 'cli'].join('|')}`);
  process.exit(2);
}
