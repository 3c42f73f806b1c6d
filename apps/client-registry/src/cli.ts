// `pnpm cli …`: the operator's commands, against DATABASE_URL or the embedded database under DATA_DIR.
import { type Db, EmbeddedDatabaseInUseError, embeddedDataDir, migrateToLatest, openDatabase } from '@partner-oauth/storage';
import { runCli } from './cli/commands.js';

let db: Db | undefined;
try {
  // While `pnpm start` holds the embedded database this throws, before anything is read or written.
  db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: embeddedDataDir() });
  // The embedded database may never have been started; the commands need its tables.
  await migrateToLatest(db);
  process.exitCode = await runCli(db, process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
} catch (err) {
  process.stderr.write(
    err instanceof EmbeddedDatabaseInUseError ? `${err.message}\n` : `error: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exitCode = 1;
} finally {
  await db?.destroy();
}
