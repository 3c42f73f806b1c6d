// Entry-point plumbing shared by every service: config errors as one clear line, listen, graceful shutdown.
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';

export interface Runnable {
  app: FastifyInstance;
  host: string;
  port: number;
}

/** Starts the service built by `start`; on SIGTERM/SIGINT stops accepting, finishes in-flight requests, closes, exits. */
export async function runService(start: () => Promise<Runnable>): Promise<void> {
  let running: Runnable;
  try {
    running = await start();
    await running.app.listen({ host: running.host, port: running.port });
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
  const { app } = running;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
