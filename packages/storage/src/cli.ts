// `pnpm db:migrate` and `pnpm db:seed`: against DATABASE_URL, or the embedded database under DATA_DIR.
import { embeddedDataDir, openDatabase } from './db.js';
import { migrateToLatest } from './migrate.js';
import { seedDemoData } from './seed.js';

const command = process.argv[2];
if (command !== 'migrate' && command !== 'seed') {
  console.error('usage: cli.js migrate|seed');
  process.exit(2);
}
if (command === 'seed' && process.env.NODE_ENV === 'production') {
  console.error('refusing to seed demo data in production mode (NODE_ENV=production)');
  process.exit(1);
}
// No statement timeout: a migration may rewrite a large table.
// While `pnpm start` holds the embedded database, openDatabase refuses (one sentence) before touching it.
const db = await openDatabase({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: embeddedDataDir(),
  queryTimeoutMs: 0,
}).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
  if (command === 'seed') {
    await seedDemoData(db);
    console.log('demo data seeded (shoplifter/secret; ada@example.com, grace@example.com, nobody@example.com)');
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
