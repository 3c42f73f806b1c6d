// Entry-point plumbing shared by every service: config errors as one clear line, listen, graceful shutdown.
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';

export interface Runnable {
  app: FastifyInstance;
  host: string;
  port: number;
  /** How long readiness answers 503 before the listener closes, so load balancers stop routing here first. */
  drainMs?: number;
  /** Longest a shutdown may take after draining before the process exits 1. */
  closeTimeoutMs?: number;
}

/** Marks `apps` not ready (when they carry the observability plugin), waits `drainMs`, then closes them. */
export async function drainAndClose(apps: FastifyInstance[], drainMs: number): Promise<void> {
  for (const app of apps) if (app.hasDecorator('readiness')) app.readiness.draining = true;
  if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
  await Promise.all(apps.map((app) => app.close()));
}

/** Starts the service built by `start`; on SIGTERM/SIGINT drains, stops accepting, finishes in-flight requests, closes, exits. */
export async function runService(start: () => Promise<Runnable>): Promise<void> {
  let running: Runnable;
  try {
    running = await start();
    await running.app.listen({ host: running.host, port: running.port });
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
  const { app, drainMs = 0, closeTimeoutMs = 10_000 } = running;
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      app.log.info({ signal, drainMs }, 'shutting down');
      const force = setTimeout(() => {
        app.log.error({ closeTimeoutMs }, 'shutdown took too long');
        process.exit(1);
      }, drainMs + closeTimeoutMs);
      force.unref();
      drainAndClose([app], drainMs).then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
