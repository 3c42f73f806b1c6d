// A round-robin HTTP proxy on loopback: each request, not each connection, goes to the next backend.
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

export interface RoundRobinProxy {
  url: string;
  /** Requests each backend received, in backend order. */
  served: number[];
  close(): Promise<void>;
}

export interface RoundRobinOptions {
  /**
   * Like a gateway whose endpoints follow the orchestrator's readiness probe: each backend's `readyPath` is polled
   * every 100 ms, and one not answering 200 (draining for a shutdown, stopped) gets no new request while another
   * does. Without it every backend gets its turn, ready or not.
   */
  readyPath?: string;
}

/**
 * A backend that refuses the connection (stopped, restarting) never saw the request: like nginx's
 * `proxy_next_upstream error`, the proxy tries the next one. Any other upstream failure is a 502.
 */
export async function startRoundRobinProxy(backends: string[], options: RoundRobinOptions = {}): Promise<RoundRobinProxy> {
  const served = backends.map(() => 0);
  const ready = backends.map(() => true);
  const { readyPath } = options;
  const probe = async (): Promise<void> => {
    if (!readyPath) return;
    await Promise.all(
      backends.map(async (backend, i) => {
        try {
          const res = await fetch(new URL(readyPath, backend), { signal: AbortSignal.timeout(500) });
          ready[i] = res.status === 200;
          await res.body?.cancel();
        } catch {
          ready[i] = false;
        }
      }),
    );
  };
  await probe();
  const prober = readyPath ? setInterval(() => void probe(), 100) : undefined;
  /** The next backend in turn, skipping the unready ones while any is ready. */
  const pick = (): number => {
    const anyReady = ready.some(Boolean);
    for (let i = 0; i < backends.length; i++) {
      const index = next++ % backends.length;
      if (!anyReady || ready[index]) return index;
    }
    return next++ % backends.length;
  };
  let next = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const first = pick();
    const attempt = (tries: number): void => {
      const index = (first + tries) % backends.length;
      const target = new URL(req.url ?? '/', backends[index]);
      // A fresh connection per request (agent: false), so keep-alive cannot pin a client to one backend.
      const upstream = httpRequest(target, { method: req.method, headers: req.headers, agent: false }, (up: IncomingMessage) => {
        served[index] = (served[index] ?? 0) + 1;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' && tries + 1 < backends.length) return attempt(tries + 1);
        if (!res.headersSent) res.writeHead(502, { 'x-proxy-error': err.code ?? 'error' }).end();
        else res.destroy();
      });
      upstream.end(body);
    };
    attempt(0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: async () => {
      clearInterval(prober);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
