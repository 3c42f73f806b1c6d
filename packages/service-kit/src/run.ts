// Entry-point plumbing shared by every service: config errors as one clear line, listen, graceful shutdown.
import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';

/** The settings of CommonConfig the run loop reads. */
export interface RunConfig {
  HOST: string;
  PORT: number;
  /** How long readiness answers 503 before the listener closes, so load balancers stop routing here first. */
  SHUTDOWN_DRAIN_SECONDS: number;
  /** Longest a shutdown may take after draining before the process exits 1. */
  SHUTDOWN_TIMEOUT_SECONDS: number;
}

export interface Runnable {
  app: FastifyInstance;
  config: RunConfig;
  /** What the app was built on (database, stores), closed in this order once the app has closed. */
  resources?: Array<{ close(): Promise<unknown> } | { destroy(): Promise<unknown> }>;
}

/** The settings a service needs when it runs alone (the embedded defaults belong to `pnpm start`). */
export function requireSettings<C, K extends keyof C & string>(service: string, config: C, names: K[]): { [N in K]: NonNullable<C[N]> } {
  const missing = names.filter((name) => !config[name]);
  if (missing.length > 0) {
    throw new ConfigError(
      `${missing.join(' and ')} must be set to run ${service} alone; \`pnpm start\` runs the whole product on embedded stores`,
    );
  }
  return Object.fromEntries(names.map((name) => [name, config[name]])) as { [N in K]: NonNullable<C[N]> };
}

/**
 * After the drain, how long open connections get to carry one more request (answered with `Connection: close`)
 * before the idle ones are closed.
 */
const LAST_REQUESTS_GRACE_MS = 500;

function connectionCount(app: FastifyInstance): Promise<number> {
  return new Promise((resolve) => app.server.getConnections((err, count) => resolve(err ? 0 : count)));
}

/** Stops accepting connections and waits until the open ones are gone or `graceMs` passed; the open ones stay. */
async function stopAccepting(app: FastifyInstance, graceMs: number): Promise<void> {
  if (app.hasDecorator('readiness')) app.readiness.closingConnections = true;
  // net.Server's close, not http.Server's: the latter also closes idle connections at once.
  if (app.server.listening) NetServer.prototype.close.call(app.server);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (await connectionCount(app)) > 0) await new Promise((resolve) => setTimeout(resolve, 25));
}

/**
 * Shuts `apps` down without resetting a request a client already sent (tests/scale keepalive-shutdown.test.ts).
 * 1. Drain: readiness answers 503 (when they carry the observability plugin) while requests are still served on
 *    kept-alive connections as usual, so a gateway keeps its pool rather than opening connections that the
 *    closing listener would reset from its accept queue.
 * 2. The listener stops accepting (a new connection is refused, which a gateway retries on another upstream),
 *    and every response now says `Connection: close`: each open connection closes cleanly after its next
 *    request instead of being cut while the client may be sending on it.
 * 3. After a short grace Fastify closes: requests in flight finish, later ones get a 503 with
 *    `Connection: close`, connections still idle are closed.
 */
export async function drainAndClose(apps: FastifyInstance[], drainMs: number, graceMs = LAST_REQUESTS_GRACE_MS): Promise<void> {
  for (const app of apps) if (app.hasDecorator('readiness')) app.readiness.draining = true;
  if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
  await Promise.all(apps.map((app) => stopAccepting(app, graceMs)));
  await Promise.all(apps.map((app) => app.close()));
}

/** Starts the service built by `start`; on SIGTERM/SIGINT drains, stops accepting, finishes in-flight requests, closes, exits. */
export async function runService(start: () => Promise<Runnable>): Promise<void> {
  let running: Runnable;
  try {
    running = await start();
    const resources = running.resources ?? [];
    running.app.addHook('onClose', async () => {
      for (const resource of resources) await ('close' in resource ? resource.close() : resource.destroy());
    });
    await running.app.listen({ host: running.config.HOST, port: running.config.PORT });
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
  const { app, config } = running;
  const drainMs = config.SHUTDOWN_DRAIN_SECONDS * 1000;
  const closeTimeoutMs = config.SHUTDOWN_TIMEOUT_SECONDS * 1000;
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
