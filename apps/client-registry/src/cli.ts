// `pnpm cli …`: the operator's commands, against DATABASE_URL or the embedded database under DATA_DIR.
import { embeddedDataDir, migrateToLatest, openDatabase } from '@partner-oauth/storage';
import { runCli } from './cli/commands.js';

const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: embeddedDataDir() });
try {
  // The embedded database may never have been started; the commands need its tables.
  await migrateToLatest(db);
  process.exitCode = await runCli(db, process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
