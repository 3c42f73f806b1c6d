// The per-request child logger (issue 13, docs/performance.md item 34): pino's own child, whose bindings go through the
// redactor of the services' wildcard redact paths, against service-kit's childLoggerFactory, each as Fastify calls it
// for every request (the request id as the one binding, no options). Nanoseconds per call, best of 5 rounds of 200,000.
// Usage (after `pnpm exec turbo run build --filter @partner-oauth/service-kit`): node bench/scripts/logger-micro.mjs
import { randomUUID } from 'node:crypto';
import { baseServerOptions, childLoggerFactory } from '@partner-oauth/service-kit';
import Fastify from 'fastify';

const N = 200_000;
// The logger every service runs with (JSON lines, the redact paths), at the services' default level.
const app = Fastify(baseServerOptions({ logLevel: 'info', service: 'token-service', trustProxy: false }));
const ids = Array.from({ length: 1024 }, () => randomUUID());
const cases = {
  "pino's child (before)": (i) => app.log.child({ reqId: ids[i & 1023] }, {}),
  'childLoggerFactory (now)': (i) => childLoggerFactory(app.log, { reqId: ids[i & 1023] }, {}),
};
for (const [name, fn] of Object.entries(cases)) {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / N);
  }
  console.log(`${name.padEnd(26)} ${best.toFixed(0).padStart(6)} ns`);
}
await app.close();
