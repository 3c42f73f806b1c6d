// Postgres CPU per code-exchange token (issue 13): today's single statement per exchange against TokenIssueBatcher's
// batched calls, on a fresh migrated database, read from the backends' /proc/<pid>/stat (so Postgres on this machine).
// Usage (after `pnpm exec turbo run build --filter @partner-oauth/storage`): node bench/scripts/issue-batch-cpu.mjs [N] [reps]
import { TokenIssueBatcher } from '@partner-oauth/storage';
import { cpuMs, scratchDatabase, singleStatement } from './scratch-db.mjs';

const N = Number(process.argv[2] ?? 4000);
const REPS = Number(process.argv[3] ?? 3);
const CALLERS = 16;
const { db, input, backends, close } = await scratchDatabase('issue_batch_bench', 10);
try {
  const single = (i) => singleStatement(db, i);
  const batched = (batcher) => async (i) => {
    if ((await batcher.issue(i)).status !== 'issued') throw new Error('refused');
  };
  async function run(label, issue, callers = CALLERS, n = N) {
    let started = 0;
    const pids = await backends();
    const cpu0 = cpuMs(pids);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (started < n) {
          started++;
          await issue(input());
        }
      }),
    );
    const wall = performance.now() - t0;
    const cpu = cpuMs(pids) - cpu0;
    console.log(
      `${label.padEnd(44)} pg CPU ${String(cpu).padStart(5)} ms = ${(cpu / n).toFixed(3)} ms/token; wall ${wall.toFixed(0)} ms (${Math.round((n / wall) * 1000)}/s)`,
    );
  }
  // Every pool connection open and its statements prepared before anything is counted.
  await Promise.all(Array.from({ length: 40 }, () => single(input())));
  const one = new TokenIssueBatcher(db);
  const two = new TokenIssueBatcher(db, { maxInFlight: 2 });
  await Promise.all(Array.from({ length: 40 }, () => batched(two)(input())));
  console.log(`N=${N} tokens per run, ${CALLERS} concurrent callers, pool of 10`);
  for (let rep = 0; rep < REPS; rep++) {
    await run('single statement per exchange', single);
    await run('TokenIssueBatcher, 1 call in flight', batched(one));
    await run('TokenIssueBatcher, 2 calls in flight', batched(two));
    await run('single statement, 1 caller', single, 1, N / 4);
    await run('TokenIssueBatcher, 1 caller (one-row calls)', batched(one), 1, N / 4);
  }
} finally {
  await close();
}
